import { describe, expect, it } from 'vitest';
import { type Job, JobQueue } from '../../../src/broker/scheduler/job-queue.js';

function job(at: number, seq: number): Job {
  return { id: `j${seq}`, at, position: seq, state: 'waiting', seq };
}

describe('JobQueue', () => {
  it('gives jobs back by time, and in the order they came when due together', () => {
    const q = new JobQueue();
    const jobs = Array.from({ length: 500 }, (_, i) => job(Math.floor(Math.sin(i * 7.3) * 50), i));
    for (const j of jobs) q.push(j);
    const out: Job[] = [];
    for (let j = q.pop(); j; j = q.pop()) out.push(j);
    expect(out.map((j) => j.id)).toEqual([...jobs].sort((a, b) => a.at - b.at || a.seq - b.seq).map((j) => j.id));
  });

  it('skips removed jobs at the top, and drops them all on compact', () => {
    const q = new JobQueue();
    const jobs = [job(3, 0), job(1, 1), job(2, 2), job(5, 3)];
    for (const j of jobs) q.push(j);
    jobs[1].state = 'removed';
    q.skipRemoved();
    expect(q.peek()?.id).toBe('j2');
    jobs[3].state = 'removed';
    q.compact();
    expect(q.size).toBe(2);
    expect([q.pop()?.id, q.pop()?.id, q.pop()]).toEqual(['j2', 'j0', undefined]);
  });
});

/**
 * The job scheduler inside a broker: cron and repeats on a fake clock, then
 * over STOMP (transactions, errors, time to live, virtual topics, a journal
 * restart) on a real one.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Broker } from '../../../src/broker/broker.js';
import type { PartialBrokerConfig } from '../../../src/config/broker-config.js';
import { destination } from '../../../src/broker/core/destination.js';
import { BrokerMessage } from '../../../src/broker/core/message.js';
import type { ReceivedMessage } from '../../../src/client/index.js';
import { connectClient, eventually, sleep, startBroker } from '../../helpers/broker.js';
import { tempDir } from '../../helpers/temp-dir.js';

describe('job scheduler on a fake clock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A broker that is made but serves nothing: its router and scheduler, driven directly. */
  function scheduler(config: PartialBrokerConfig = {}) {
    const broker = new Broker({ persistent: false, schedulerSupport: true, transportConnectors: ['stomp://127.0.0.1:0'], ...config });
    const s = broker.scheduler!;
    s.start();
    let n = 0;
    const send = (headers: Record<string, string>, to = 'ticks') =>
      broker.router.send(new BrokerMessage({ id: `m${++n}`, destination: destination('queue', to), headers, body: Buffer.from(`body ${n}`), persistent: false, priority: 4, expiration: 0, timestamp: Date.now() }));
    const size = (to = 'ticks') => broker.router.queues.get(`queue://${to}`)?.size ?? 0;
    return { broker, s, send, size };
  }

  it('fires a cron job at each minute its entry names, for ever; a removed job stops', async () => {
    vi.useFakeTimers({ now: new Date(2026, 10, 30, 12, 0, 30) });
    const { s, send, size } = scheduler();
    send({ AMQ_SCHEDULED_CRON: '*/2 * * * *' });
    expect(s.size).toBe(1);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(size()).toBe(0);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(size()).toBe(1);
    await vi.advanceTimersByTimeAsync(4 * 60_000);
    expect(size()).toBe(3);
    const [job] = await s.browse();
    expect(s.remove(job.id)).toBe(true);
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(size()).toBe(3);
    expect(s.size).toBe(0);
  });

  it('starts a separate delay/period/repeat schedule at each cron time when the cron job has a repeat', async () => {
    vi.useFakeTimers({ now: new Date(2026, 10, 30, 12, 0, 30) });
    const { s, send, size } = scheduler();
    send({ AMQ_SCHEDULED_CRON: '* * * * *', AMQ_SCHEDULED_DELAY: '1000', AMQ_SCHEDULED_PERIOD: '500', AMQ_SCHEDULED_REPEAT: '2' });
    // As ActiveMQ: the cron job's own first run is the entry's next time plus the delay (12:01:01).
    await vi.advanceTimersByTimeAsync(31_000);
    // It starts a schedule of its own (1 s delay, then 2 repeats 500 ms apart) and fires nothing itself.
    expect(size()).toBe(0);
    expect(s.size).toBe(2);
    await vi.advanceTimersByTimeAsync(1000);
    expect(size()).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(size()).toBe(3);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(size()).toBe(3);
    expect(s.size).toBe(1);
    // 12:02:00, and each minute after: another schedule of three.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(size()).toBe(6);
  });

  it('repeats for ever with a negative repeat; removeAll within a time range takes only the jobs due then', async () => {
    vi.useFakeTimers({ now: new Date(2026, 10, 30, 12, 0, 0) });
    const { s, send, size } = scheduler();
    send({ AMQ_SCHEDULED_PERIOD: '1000', AMQ_SCHEDULED_REPEAT: '-1' });
    send({ AMQ_SCHEDULED_DELAY: '3600000' }, 'later');
    send({ AMQ_SCHEDULED_DELAY: '7200000' }, 'later');
    await vi.advanceTimersByTimeAsync(100_500);
    expect(size()).toBe(100);
    const now = Date.now();
    expect(s.removeAll({ start: now + 3_000_000, end: now + 4_000_000 })).toBe(1);
    expect((await s.browse()).map((j) => j.destination)).toEqual(['queue://ticks', 'queue://later']);
    expect(s.removeAll()).toBe(2);
    await vi.advanceTimersByTimeAsync(3 * 3600_000);
    expect(size()).toBe(100);
    expect(size('later')).toBe(0);
  });
  it("pauses while a job's destination refuses messages (producer flow control), and fires once there is room", async () => {
    vi.useFakeTimers({ now: new Date(2026, 10, 30, 12, 0, 0) });
    const { broker, s, send, size } = scheduler({ systemUsage: { memoryUsage: { limit: 1024 * 1024 } } });
    const ticks = destination('queue', 'ticks');
    const big = Buffer.alloc(64 * 1024, 'x');
    for (let i = 0; i < 100 && !broker.router.flowControl.admit(ticks, false, 'test'); i++) {
      broker.router.send(new BrokerMessage({ id: `fill${i}`, destination: ticks, headers: {}, body: big, persistent: false, priority: 4, expiration: 0, timestamp: Date.now() }));
    }
    const full = size();
    expect(broker.router.flowControl.admit(ticks, false, 'test')).not.toBeNull();
    for (let i = 0; i < 3; i++) send({ AMQ_SCHEDULED_DELAY: '10' });
    await vi.advanceTimersByTimeAsync(2000);
    expect(size()).toBe(full);
    expect(s.size).toBe(3);
    broker.router.queues.get('queue://ticks')!.purge();
    await vi.advanceTimersByTimeAsync(200);
    expect(size()).toBe(3);
    expect(s.size).toBe(0);
  });
});

describe('job scheduler over STOMP', () => {
  async function collect(port: Awaited<ReturnType<typeof startBroker>>, dest: string) {
    const c = await connectClient(port);
    const got: Array<{ m: ReceivedMessage; at: number }> = [];
    await c.subscribe(dest, (m) => got.push({ m, at: Date.now() }));
    return got;
  }

  it('is off by default, as ActiveMQ: scheduling headers are ignored and the message goes at once', async () => {
    const b = await startBroker();
    const got = await collect(b, '/queue/now');
    const p = await connectClient(b);
    await p.sendWithReceipt('/queue/now', 'x', { AMQ_SCHEDULED_DELAY: '60000' });
    await eventually(() => got.length === 1, 2000, 'the message at once');
    expect(got[0].m.headers.AMQ_SCHEDULED_DELAY).toBe('60000');
    expect(b.status().scheduler).toBeNull();
  });

  it("schedules a transaction's messages when it commits and not at all when it aborts; the fired message has scheduledJobId and no scheduling headers", async () => {
    const b = await startBroker({ schedulerSupport: true });
    const got = await collect(b, '/queue/tx');
    const p = await connectClient(b);
    const aborted = await p.begin();
    p.send('/queue/tx', 'aborted', { AMQ_SCHEDULED_DELAY: '100', transaction: aborted });
    await p.abort(aborted);
    const tx = await p.begin();
    p.send('/queue/tx', 'committed', { AMQ_SCHEDULED_DELAY: '200', transaction: tx });
    await sleep(300);
    expect(b.scheduler!.size).toBe(0);
    const committedAt = Date.now();
    await p.commit(tx);
    expect(b.scheduler!.size).toBe(1);
    await eventually(() => got.length === 1, 3000, 'the committed message');
    await sleep(300);
    expect(got.map((g) => g.m.text)).toEqual(['committed']);
    expect(got[0].at - committedAt).toBeGreaterThanOrEqual(200 - 5);
    expect(got[0].m.headers.scheduledJobId).toMatch(/job/);
    expect(Object.keys(got[0].m.headers).filter((h) => h.startsWith('AMQ_SCHEDULED'))).toEqual([]);
  });

  it('refuses a repeat above 1000 with an ERROR in ActiveMQ\'s words', async () => {
    const b = await startBroker({ schedulerSupport: true });
    const p = await connectClient(b);
    await expect(p.sendWithReceipt('/queue/x', 'x', { AMQ_SCHEDULED_PERIOD: '10', AMQ_SCHEDULED_REPEAT: '5000' })).rejects.toThrow('The scheduled repeat value is too large');
    expect(b.scheduler!.size).toBe(0);
  });

  it("counts a message's time to live from when it fires, and sends a virtual topic's fired message to every consumer queue", async () => {
    const b = await startBroker({ schedulerSupport: true });
    const app = await collect(b, '/queue/Consumer.A.VirtualTopic.Later');
    const other = await collect(b, '/queue/Consumer.B.VirtualTopic.Later');
    const p = await connectClient(b);
    const sentAt = Date.now();
    await p.sendWithReceipt('/topic/VirtualTopic.Later', 'ttl', { AMQ_SCHEDULED_DELAY: '600', expires: String(sentAt + 300) });
    await eventually(() => app.length === 1 && other.length === 1, 3000, 'a copy for each consumer queue');
    expect(Number(app[0].m.headers.expires)).toBeGreaterThanOrEqual(sentAt + 600 + 300 - 5);
  });

  it('keeps persistent jobs in the journal: one due while the broker was down fires as it starts, a later one on time', async () => {
    const dir = tempDir('scheduler-journal');
    const config = { persistent: true, store: { directory: dir }, schedulerSupport: true };
    const b = await startBroker(config);
    const p = await connectClient(b);
    await p.sendWithReceipt('/queue/j', 'soon', { AMQ_SCHEDULED_DELAY: '300', persistent: 'true' });
    const sentAt = Date.now();
    await p.sendWithReceipt('/queue/j', 'later', { AMQ_SCHEDULED_DELAY: '1500', persistent: 'true' });
    await b.stop();
    await sleep(400);
    const again = await startBroker(config);
    expect(again.scheduler!.size).toBe(2);
    const got = await collect(again, '/queue/j');
    await eventually(() => got.length === 2, 5000, 'both jobs');
    expect(got.map((g) => g.m.text)).toEqual(['soon', 'later']);
    expect(got[1].at - sentAt).toBeGreaterThanOrEqual(1500);
    expect(got[0].m.headers.persistent).toBe('true');
    expect(again.scheduler!.size).toBe(0);
    // A non-persistent message is kept as a job in the journal too: its RECEIPT comes once the job is stored.
    const q = await connectClient(again);
    await q.sendWithReceipt('/queue/j', 'volatile', { AMQ_SCHEDULED_DELAY: '60000' });
    expect(again.scheduler!.size).toBe(1);
  });
});

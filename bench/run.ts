/**
 * `npm run bench`: runs the scenarios against amq-sim and, when Debian's
 * `activemq` is installed, against Apache ActiveMQ 5.17 in the same session,
 * and prints a table of figures and ratios.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { LATENCY_SCENARIOS, type Scenario, type ScenarioResult, THROUGHPUT_SCENARIOS, warmUp } from './scenarios.js';
import { activemqInstalled, type BrokerTarget, freePort, startActiveMQ, startAmqSim, type TargetOptions } from './targets.js';
import { atFileLimit, type FileLimitResult, idleConnections, type IdleResult } from './connections.js';
import { type DuplicateResult, failoverDuplicates } from './duplicates.js';
import { failoverTrial, type FailoverTrial } from './failover.js';
import { networkScenarios, type NetworkResult } from './network.js';
import { networkScaleScenario, type ScaleResult } from './network-scale.js';
import { type SchedulerAccuracyResult, schedulerAccuracy, type SchedulerCapacityResult, schedulerCapacity } from './scheduler.js';
import { type BacklogResult, backlogScenario, type FlowControlResult, flowControlScenario } from './limits.js';
import { fsyncRate, gcScenario, type GcResult, persistenceScenarios, type PersistenceResult, recoveryScenario, type RecoveryResult } from './persistence.js';

const args = yargs(hideBin(process.argv))
  .option('only', { type: 'string', array: true, describe: 'Scenario groups or name fragments to run' })
  .option('scale', { type: 'number', default: 1, describe: 'Multiply message counts' })
  .option('targets', { type: 'string', array: true, default: ['amq-sim', 'activemq'], describe: 'Brokers to measure: amq-sim, activemq' })
  .option('work-dir', { type: 'string', default: '.bench-work', describe: 'Where stores and instance files go' })
  .option('out', { type: 'string', describe: 'Write the results as JSON here' })
  .option('idle-connections', { type: 'number', default: 18_000, describe: 'Connections for the idle-connection scenario' })
  .option('idle-seconds', { type: 'number', default: 30, describe: 'How long the idle connections are held' })
  .option('file-limit', { type: 'number', default: 1024, describe: 'ulimit -n for the file-limit scenario' })
  .option('recovery-messages', { type: 'number', default: 1_000_000, describe: 'Pending 1 KiB messages for the recovery scenario' })
  .option('failover-trials', { type: 'number', default: 8, describe: 'kill -9 trials per lock poll setting in the failover scenario' })
  .option('network-messages', { type: 'number', default: 200_000, describe: 'Messages for the network throughput scenario' })
  .option('gc-messages', { type: 'number', default: 1_000_000, describe: 'Persistent messages through a queue for the journal GC scenario' })
  .option('backlog-messages', { type: 'number', default: 10_000_000, describe: 'Pending 1 KiB persistent messages for the backlog scenario (limits)' })
  .option('backlog-memory-limit', { type: 'string', default: '64 mb', describe: 'Memory limit of both brokers in the backlog scenario' })
  .option('pfc-messages', { type: 'number', default: 300_000, describe: 'Non-persistent 1 KiB messages for the producer flow control scenario (limits)' })
  .option('pfc-memory-limit', { type: 'string', default: '16 mb', describe: 'Memory limit of both brokers in the producer flow control scenario' })
  .option('scheduler-rate', { type: 'number', default: 1000, describe: 'Scheduled messages per second in the scheduler accuracy scenario' })
  .option('scheduler-seconds', { type: 'number', default: 20, describe: 'How long the scheduler accuracy scenario sends' })
  .option('scheduler-delay', { type: 'number', default: 1000, describe: 'AMQ_SCHEDULED_DELAY (ms) in the scheduler accuracy scenario' })
  .option('scheduler-jobs', { type: 'number', default: 1_000_000, describe: 'Jobs waiting in the scheduler capacity scenario' })
  .option('scale-queues', { type: 'number', default: 100, describe: 'Queues in the seed-scale network scenario (network-scale)' })
  .option('scale-consumers', { type: 'number', default: 2000, describe: 'Consumer connections on each edge in the seed-scale network scenario' })
  .option('scale-per-queue', { type: 'number', default: 2000, describe: 'Messages per queue, unthrottled, in the seed-scale network scenario' })
  .option('scale-latency-rate', { type: 'number', default: 0, describe: 'Steady rate (msg/s) of the latency phase of the seed-scale scenario; 0: half the rate it measured unthrottled' })
  .option('scale-latency-seconds', { type: 'number', default: 15, describe: 'How long the steady-rate latency phase of the seed-scale scenario sends' })
  .option('duplicate-kills', { type: 'number', default: 20, describe: 'kill -9 of the hub master in the duplicates scenario (combined topology)' })
  .strict()
  .parseSync();

const ALL: Scenario[] = [...THROUGHPUT_SCENARIOS, ...LATENCY_SCENARIOS];

function selected(): Scenario[] {
  if (!args.only) return ALL;
  return ALL.filter((s) => args.only!.some((o) => s.group === o || s.name.includes(o)));
}

function wants(group: string): boolean {
  return !args.only || args.only.includes(group);
}

type Starter = (o: TargetOptions) => Promise<BrokerTarget>;

function starters(work: string): Array<{ name: string; start: Starter }> {
  const list: Array<{ name: string; start: Starter }> = [];
  if (args.targets.includes('amq-sim')) list.push({ name: 'amq-sim', start: (o) => startAmqSim({ ...o, storeDir: o.storeDir || join(work, 'amq-sim-store') }) });
  if (args.targets.includes('activemq')) {
    if (activemqInstalled()) list.push({ name: 'ActiveMQ 5.17', start: (o) => startActiveMQ({ ...o, storeDir: o.storeDir || join(work, 'activemq-store') }) });
    else console.error('ActiveMQ is not installed (apt-get install activemq): no baseline this run');
  }
  return list;
}

async function connectionScenarios(work: string): Promise<{ idle: IdleResult[]; limits: FileLimitResult[] }> {
  const idle: IdleResult[] = [];
  const limits: FileLimitResult[] = [];
  for (const { name, start } of starters(work)) {
    const target = await start({ persistent: name !== 'amq-sim', storeDir: '' });
    try {
      console.error(`  ${name}: ${args['idle-connections']} idle connections for ${args['idle-seconds']} s`);
      idle.push(await idleConnections(target, args['idle-connections'], args['idle-seconds']));
    } finally {
      await target.stop();
    }
    const limited = await start({ persistent: name !== 'amq-sim', storeDir: '', fileLimit: args['file-limit'] });
    try {
      console.error(`  ${name}: connections up to ulimit -n ${args['file-limit']}`);
      limits.push(await atFileLimit(limited, args['file-limit']));
    } finally {
      await limited.stop();
    }
  }
  return { idle, limits };
}

function fmt(x: number | undefined, digits = 0): string {
  if (x === undefined || Number.isNaN(x)) return '–';
  return x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

async function measure(start: () => Promise<BrokerTarget>, scenarios: Scenario[]): Promise<ScenarioResult[]> {
  const target = await start();
  const results: ScenarioResult[] = [];
  try {
    await warmUp(target);
    for (const s of scenarios) {
      const load0 = loadavg()[0];
      const r = await s.run(target, args.scale);
      results.push(r);
      r.extra = { ...r.extra, load: `${load0.toFixed(2)}→${loadavg()[0].toFixed(2)}` };
      console.error(`  ${target.name.padEnd(14)} ${s.name.padEnd(34)} ${fmt(r.rate).padStart(9)} msg/s  cpu ${fmt(r.cpuMicrosPerMessage, 1)} µs/msg  ${r.p99Millis !== undefined ? `p50 ${fmt(r.p50Millis, 2)} p99 ${fmt(r.p99Millis, 2)} ms  ` : ''}broker ${r.extra?.brokerCpu} load-tool ${r.extra?.loadToolCpu}  ${r.verified ? 'exactly-once ✓' : `NOT VERIFIED: ${r.detail}`}`);
    }
  } finally {
    await target.stop();
  }
  return results;
}

async function main(): Promise<void> {
  const scenarios = selected();
  const work = join(process.cwd(), args['work-dir']);
  mkdirSync(work, { recursive: true });
  const results: ScenarioResult[] = [];
  console.error(`load average at start: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  if (scenarios.length > 0) {
    for (const { name, start } of starters(work)) {
      console.error(`${name}:`);
      // ActiveMQ runs as users run it (persistent broker; these messages are non-persistent).
      results.push(...(await measure(() => start({ persistent: name !== 'amq-sim', storeDir: '' }), scenarios)));
    }
    printTable(scenarios, results);
  }
  const connections = wants('connections') ? await connectionScenarios(work) : { idle: [], limits: [] };
  if (connections.idle.length > 0) printConnectionTables(connections.idle, connections.limits);
  const persistence = wants('persistence') ? await persistence_(work) : null;
  const failover = wants('failover') ? await failover_(work) : null;
  const network = wants('network') ? await network_(work) : null;
  const duplicates = wants('duplicates') ? await duplicates_(work) : null;
  const restart = wants('restart') ? await restart_(work) : null;
  const limits = wants('limits') ? await limits_(work) : null;
  const scheduler = wants('scheduler') ? await scheduler_(work) : null;
  const networkScale = wants('network-scale') ? await networkScale_(work) : null;
  if (args.out) writeFileSync(args.out, JSON.stringify({ date: new Date().toISOString(), loadavg: loadavg(), results, connections, persistence, failover, network, duplicates, restart, limits, scheduler, networkScale }, null, 2));
}

const MiB = 1024 * 1024;

/** Only the restart with a large backlog (also part of `persistence`): time to accepting connections. */
async function restart_(work: string): Promise<RecoveryResult[]> {
  const recovery: RecoveryResult[] = [];
  for (const { name, start } of starters(work)) {
    console.error(`${name}: restart with ${fmt(args['recovery-messages'])} pending messages after kill -9`);
    const storeDir = join(work, `${name.split(' ')[0]}-restart-store`);
    recovery.push(await recoveryScenario(name, (o) => start({ ...o, storeDir }), storeDir, args['recovery-messages'], reportedRecovery));
  }
  printRecovery(recovery);
  return recovery;
}

async function scheduler_(work: string): Promise<{ accuracy: SchedulerAccuracyResult[]; capacity: SchedulerCapacityResult[] }> {
  const accuracy: SchedulerAccuracyResult[] = [];
  const capacity: SchedulerCapacityResult[] = [];
  for (const { name, start } of starters(work)) {
    const storeDir = join(work, `${name.split(' ')[0]}-scheduler-store`);
    console.error(`${name}: ${fmt(args['scheduler-rate'])} scheduled msg/s for ${args['scheduler-seconds']} s, AMQ_SCHEDULED_DELAY ${args['scheduler-delay']} ms`);
    const a = await schedulerAccuracy(name, (o) => start({ ...o, storeDir }), storeDir, args['scheduler-rate'], args['scheduler-seconds'], args['scheduler-delay']);
    accuracy.push(a);
    console.error(`  late by p50 ${fmt(a.p50Ms, 1)} ms, p99 ${fmt(a.p99Ms, 1)} ms, max ${fmt(a.maxMs, 1)} ms; cpu ${fmt(a.cpuMicrosPerMessage, 1)} µs/msg (plain persistent at the same rate ${fmt(a.plainCpuMicrosPerMessage, 1)}); missing ${a.missing}, duplicates ${a.duplicates}; load ${a.load}`);
    console.error(`${name}: ${fmt(args['scheduler-jobs'])} jobs waiting an hour`);
    const c = await schedulerCapacity(name, (o) => start({ ...o, storeDir }), storeDir, args['scheduler-jobs']);
    capacity.push(c);
    console.error(
      `  scheduled in ${fmt(c.scheduleSeconds, 1)} s (cpu ${fmt(c.cpuMicrosPerJob, 1)} µs/job); RSS ${fmt(c.rssBefore / MiB)} → ${fmt(c.rssAfter / MiB)} MiB; idle cpu ${fmt(c.idleCpuPercent, 2)} %; restart ${fmt(c.restartSeconds, 2)} s, RSS after ${fmt(c.rssAfterRestart / MiB)} MiB; load ${c.load}`,
    );
  }
  return { accuracy, capacity };
}

async function limits_(work: string): Promise<{ backlog: BacklogResult[]; flowControl: FlowControlResult[] }> {
  const backlog: BacklogResult[] = [];
  const flowControl: FlowControlResult[] = [];
  for (const { name, start } of starters(work)) {
    const storeDir = join(work, `${name.split(' ')[0]}-limits-store`);
    console.error(`${name}: producer flow control, ${fmt(args['pfc-messages'])} non-persistent messages, memory limit ${args['pfc-memory-limit']}`);
    const f = await flowControlScenario(name, (o) => start({ ...o, storeDir }), storeDir, args['pfc-messages'], args['pfc-memory-limit']);
    flowControl.push(f);
    console.error(`  held at ${f.heldAt ?? 'never'}; drained at ${fmt(f.drainRate)} msg/s; ${f.verified ? 'exactly-once ✓' : 'NOT VERIFIED'}`);
    console.error(`${name}: backlog of ${fmt(args['backlog-messages'])} persistent messages, memory limit ${args['backlog-memory-limit']}`);
    const b = await backlogScenario(name, (o) => start({ ...o, storeDir }), storeDir, args['backlog-messages'], args['backlog-memory-limit']);
    backlog.push(b);
    console.error(`  written in ${fmt(b.writeSeconds)} s, drained in ${fmt(b.drainSeconds)} s, peak RSS ${fmt(b.peakRssWrite / MiB)} / ${fmt(b.peakRssDrain / MiB)} MiB; ${b.verified ? 'exactly-once ✓' : 'NOT VERIFIED'}`);
  }
  console.log('\n| broker | memory limit | producer held after (receipted) | CONNECT while held | consumer draining the full queue | producer finished | peak RSS | exactly once |');
  console.log('|---|---|---:|---:|---:|---|---:|---|');
  for (const f of flowControl) {
    console.log(`| ${f.target} | ${f.memoryLimit} | ${f.heldAt === null ? 'never held' : fmt(f.heldAt)} | ${f.connectMillisWhileHeld === null ? '–' : `${fmt(f.connectMillisWhileHeld, 1)} ms`} | ${fmt(f.drainRate)} msg/s | ${f.producerFinished ? 'yes' : 'NO'} | ${fmt(f.peakRss / MiB)} MiB | ${f.verified ? 'yes' : 'NO'} |`);
  }
  console.log('\n| broker | pending 1 KiB persistent messages | memory limit | written in | drained in | peak RSS writing | peak RSS draining | exactly once |');
  console.log('|---|---:|---|---:|---:|---:|---:|---|');
  for (const b of backlog) {
    console.log(`| ${b.target} | ${fmt(b.messages)} | ${b.memoryLimit} | ${fmt(b.writeSeconds)} s | ${fmt(b.drainSeconds)} s | ${fmt(b.peakRssWrite / MiB)} MiB | ${fmt(b.peakRssDrain / MiB)} MiB | ${b.verified ? 'yes' : 'NO'} |`);
  }
  for (const b of backlog) {
    // The RSS curve, a tenth of the run at a time.
    const step = Math.max(1, Math.floor(b.curve.length / 10));
    const points = b.curve.filter((_, i) => i % step === 0 || i === b.curve.length - 1);
    console.log(`\n${b.target} RSS (MiB) over the run: ${points.map((p) => `${p.phase[0]}${fmt(p.seconds)}s:${fmt(p.rss / MiB)}`).join(' ')}`);
  }
  return { backlog, flowControl };
}

async function networkScale_(work: string): Promise<ScaleResult[]> {
  const results: ScaleResult[] = [];
  for (const { name, start } of starters(work)) {
    console.error(`${name}: seed scale, hub + 2 edges × ${fmt(args['scale-consumers'])} consumer connections over ${args['scale-queues']} queues, ${fmt(args['scale-queues'] * args['scale-per-queue'])} messages`);
    const r = await networkScaleScenario(name, (o) => start({ ...o, storeDir: join(work, `${name.split(' ')[0]}-${o.instance}`) }), name !== 'amq-sim', args['scale-queues'], args['scale-consumers'], args['scale-per-queue'], args['scale-latency-seconds'], args['scale-latency-rate']);
    results.push(r);
    console.error(
      `  ${fmt(r.rate)} msg/s; edges ${r.perEdge.join(' / ')}; per consumer min ${r.perConsumer.min} median ${r.perConsumer.median} max ${r.perConsumer.max}; cpu µs/msg hub ${fmt(r.cpuMicros.hub, 1)} edges ${r.cpuMicros.edges.map((c) => fmt(c, 1)).join(' / ')}; at ${fmt(r.latencyRate)} msg/s p50 ${fmt(r.p50Ms, 1)} ms p99 ${fmt(r.p99Ms, 1)} ms; peak RSS hub ${fmt(r.peakRss.hub / MiB)} edges ${r.peakRss.edges.map((x) => fmt(x / MiB)).join(' / ')} MiB; ${r.verified ? 'exactly-once ✓' : 'NOT VERIFIED'}; load ${r.load}`,
    );
  }
  return results;
}

async function network_(work: string): Promise<NetworkResult[]> {
  const results: NetworkResult[] = [];
  for (const { name, start } of starters(work)) {
    console.error(`${name}: network of brokers, ${fmt(args['network-messages'])} messages`);
    const rs = await networkScenarios(name, (o) => start({ ...o, storeDir: join(work, `${name.split(' ')[0]}-${o.instance}`) }), name !== 'amq-sim', args['network-messages'], 50_000);
    for (const r of rs) console.error(`  ${r.topology.padEnd(16)} ${r.paced ? `paced ${fmt(r.paced)}` : 'flat out'} ${fmt(r.rate).padStart(9)} msg/s  split ${r.split}  cpu µs/msg ${r.cpuMicros.map((c) => fmt(c, 1)).join(' / ')}  ${r.verified ? 'exactly-once ✓' : 'NOT VERIFIED'}`);
    results.push(...rs);
  }
  const find = (name: string, topology: NetworkResult['topology'], paced: boolean) => results.find((r) => r.target === name && r.topology === topology && (r.paced > 0) === paced);
  const cpu = (net: NetworkResult | undefined, single: NetworkResult | undefined) => {
    if (!net || !single) return '– | – | –';
    const ratio = (c: number) => `${fmt(c, 1)} (${fmt(c / single.cpuMicros[0], 2)}×)`;
    return `${fmt(single.cpuMicros[0], 1)} | ${ratio(net.cpuMicros[0])} | ${net.cpuMicros.slice(1).map(ratio).join(' / ')}`;
  };
  console.log('\n| broker | single broker (1 producer, 2 consumers) msg/s | hub → 2 edges msg/s | network / single | CPU µs/msg: single | hub | edges | exactly once |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---|');
  for (const name of [...new Set(results.map((r) => r.target))]) {
    const single = find(name, 'single broker', false);
    const net = find(name, 'hub → 2 edges', false);
    console.log(`| ${name} | ${fmt(single?.rate)} | ${fmt(net?.rate)} | ${fmt(single && net ? (net.rate / single.rate) * 100 : NaN)} % | ${cpu(net, single)} | ${[single, net].every((r) => r?.verified) ? 'yes' : 'NO'} |`);
  }
  console.log('\nBoth topologies at the same rate (60 % of the network\'s):\n');
  console.log('| broker | rate msg/s | CPU µs/msg: single | hub | edges | exactly once |');
  console.log('|---|---:|---:|---:|---:|---|');
  for (const name of [...new Set(results.map((r) => r.target))]) {
    const single = find(name, 'single broker', true);
    const net = find(name, 'hub → 2 edges', true);
    console.log(`| ${name} | ${fmt(net?.paced)} | ${cpu(net, single)} | ${[single, net].every((r) => r?.verified) ? 'yes' : 'NO'} |`);
  }
  return results;
}

/** amq-sim only: ActiveMQ has no duplicate-detection id for STOMP producers. */
async function duplicates_(work: string): Promise<DuplicateResult[]> {
  const results: DuplicateResult[] = [];
  for (const rate of [20, 0]) {
    for (const ids of [false, true]) {
      console.error(`  amq-sim: combined topology, ${args['duplicate-kills']} kill -9 of the hub master, producer ${rate ? `at ${rate} msg/s` : 'flat out'} ${ids ? 'with' : 'without'} _AMQ_DUPL_ID`);
      results.push(await failoverDuplicates(work, args['duplicate-kills'], ids, rate));
    }
  }
  console.log('\n| producer | rate | kill -9 of the master | sent | re-sent after a lost receipt | received | duplicates | missing |');
  console.log('|---|---|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    console.log(`| ${r.duplicateIds ? 'with _AMQ_DUPL_ID' : 'plain'} | ${r.rate ? `${r.rate} msg/s` : 'flat out'} | ${r.kills} | ${fmt(r.sent)} | ${r.resent} | ${fmt(r.received)} | ${r.duplicates} | ${r.missing} |`);
  }
  return results;
}

async function failover_(work: string): Promise<FailoverTrial[]> {
  const trials: FailoverTrial[] = [];
  for (const { name, start } of starters(work)) {
    for (const poll of [10_000, 1000]) {
      console.error(`${name}: failover after kill -9, lock poll ${poll} ms, ${args['failover-trials']} trials`);
      for (let i = 0; i < args['failover-trials']; i++) {
        const t = await failoverTrial(name, start, join(work, `${name.split(' ')[0]}-failover-store`), poll, [await freePort(), await freePort()]);
        trials.push(t);
        console.error(`  detection ${fmt(t.detectionSeconds ?? NaN, 2)} s, recovery ${fmt(t.recoverySeconds ?? NaN, 3)} s, first CONNECTED ${fmt(t.connectedSeconds, 2)} s`);
      }
    }
  }
  const stats = (xs: number[]) => (xs.length ? `${fmt(Math.min(...xs), 2)}–${fmt(Math.max(...xs), 2)} (mean ${fmt(xs.reduce((a, b) => a + b, 0) / xs.length, 2)})` : '–');
  console.log('\n| broker | lock poll | kill -9 → lock taken (s) | recovery (s) | kill -9 → first CONNECTED (s) | trials |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const name of [...new Set(trials.map((t) => t.target))]) {
    for (const poll of [10_000, 1000]) {
      const ts = trials.filter((t) => t.target === name && t.lockPoll === poll);
      const num = (xs: Array<number | null>) => xs.filter((x): x is number => x !== null);
      console.log(`| ${name} | ${poll} ms | ${stats(num(ts.map((t) => t.detectionSeconds)))} | ${stats(num(ts.map((t) => t.recoverySeconds)))} | ${stats(ts.map((t) => t.connectedSeconds))} | ${ts.length} |`);
    }
  }
  return trials;
}

/** amq-sim's own account of recovery: its "Recovery replayed N operations ... in T seconds" line. */
function reportedRecovery(t: BrokerTarget): number | null {
  const line = t.output().split('\n').find((l) => l.includes('Recovery replayed'));
  if (!line) return null;
  try {
    return (JSON.parse(line) as { seconds?: number }).seconds ?? null;
  } catch {
    return null;
  }
}

async function persistence_(work: string): Promise<{ fsyncPerSecond: number; results: PersistenceResult[]; recovery: RecoveryResult[]; gc: GcResult[] }> {
  const fsyncPerSecond = fsyncRate(work);
  console.error(`plain write+fdatasync loop (1 KiB): ${fmt(fsyncPerSecond)} /s`);
  const results: PersistenceResult[] = [];
  const recovery: RecoveryResult[] = [];
  const gc: GcResult[] = [];
  for (const { name, start } of starters(work)) {
    console.error(`${name}: persistence`);
    const storeDir = join(work, `${name.split(' ')[0]}-persistent-store`);
    for (const r of await persistenceScenarios(name, (o) => start({ ...o, storeDir }), storeDir, args.scale)) {
      results.push(r);
      console.error(`  ${name.padEnd(14)} ${r.scenario.padEnd(44)} ${fmt(r.rate).padStart(9)} msg/s ${r.verified ? '' : `NOT VERIFIED ${r.detail}`}`);
    }
    console.error(`  ${name}: recovery of ${fmt(args['recovery-messages'])} pending messages after kill -9`);
    const rec = await recoveryScenario(name, (o) => start({ ...o, storeDir }), storeDir, args['recovery-messages'], reportedRecovery);
    recovery.push(rec);
    console.error(`  ${name}: ${fmt(args['gc-messages'])} persistent messages through a queue, then journal segments on disk`);
    gc.push(await gcScenario(name, (o) => start({ ...o, storeDir }), storeDir, args['gc-messages'], 40_000));
  }
  console.log(`\nPlain write+fdatasync loop (1 KiB), the ceiling for one producer: ${fmt(fsyncPerSecond)} /s\n`);
  console.log('| scenario | amq-sim msg/s | ActiveMQ msg/s | ratio | exactly once |');
  console.log('|---|---:|---:|---:|---|');
  for (const scenario of [...new Set(results.map((r) => r.scenario))]) {
    const a = results.find((r) => r.scenario === scenario && r.target === 'amq-sim');
    const b = results.find((r) => r.scenario === scenario && r.target !== 'amq-sim');
    console.log(`| ${scenario} | ${fmt(a?.rate)} | ${fmt(b?.rate)} | ${fmt(a && b ? a.rate / b.rate : NaN, 2)}× | ${[a, b].filter(Boolean).every((r) => r!.verified) ? 'yes' : 'NO'} |`);
  }
  printRecovery(recovery);
  console.log('\n| broker | persistent messages through a queue | msg/s | most segments on disk | segments after cleanup | exactly once |');
  console.log('|---|---:|---:|---:|---:|---|');
  for (const r of gc) console.log(`| ${r.target} | ${fmt(r.messages)} | ${fmt(r.messages / r.seconds)} | ${r.maxSegments} | ${r.segmentsAfter} | ${r.verified ? 'yes' : 'NO'} |`);
  return { fsyncPerSecond, results, recovery, gc };
}

function printRecovery(recovery: RecoveryResult[]): void {
  console.log('\n| broker | pending 1 KiB messages | restart to accepting connections | recovery reported by the broker | receipted | present after kill -9 | exactly once |');
  console.log('|---|---:|---:|---:|---:|---:|---|');
  for (const r of recovery) {
    console.log(`| ${r.target} | ${fmt(r.pending)} | ${fmt(r.restartSeconds, 2)} s | ${r.reportedSeconds === null ? '–' : `${fmt(r.reportedSeconds, 2)} s`} | ${fmt(r.receipted)} | ${fmt(r.presentAfterKill)} | ${r.verified ? 'yes' : 'NO'} |`);
  }
}

function printConnectionTables(idle: IdleResult[], limits: FileLimitResult[]): void {
  console.log('\n| broker | idle connections | connect rate /s | held s | dropped | RSS per connection | idle CPU | served while held |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---|');
  for (const r of idle) {
    console.log(`| ${r.target} | ${fmt(r.connections)} | ${fmt(r.connectRate)} | ${fmt(r.heldSeconds)} | ${r.dropped} | ${fmt(r.rssPerConnection / 1024, 1)} KiB | ${fmt(r.idleCpuPercent, 1)} % | ${r.servedWhileHeld ? 'yes' : 'NO'} |`);
  }
  console.log('\n| broker | ulimit -n | accepted | refused with ERROR | refused otherwise | still serving | refusal message |');
  console.log('|---|---:|---:|---:|---:|---|---|');
  for (const r of limits) {
    console.log(`| ${r.target} | ${r.fileLimit} | ${r.accepted} | ${r.refusedCleanly} | ${r.refusedOtherwise} | ${r.servedAfter ? 'yes' : 'NO'} | ${r.refusalMessage.slice(0, 80)} |`);
  }
}

function printTable(scenarios: Scenario[], results: ScenarioResult[]): void {
  console.log('| scenario | amq-sim msg/s | ActiveMQ msg/s | ratio | amq-sim CPU µs/msg | ActiveMQ CPU µs/msg | CPU ratio | p99 ms (amq-sim / ActiveMQ) | exactly once |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const s of scenarios) {
    const a = results.find((r) => r.scenario === s.name && r.target === 'amq-sim');
    const b = results.find((r) => r.scenario === s.name && r.target !== 'amq-sim');
    const ratio = a && b ? a.rate / b.rate : NaN;
    const cpuRatio = a && b ? a.cpuMicrosPerMessage / b.cpuMicrosPerMessage : NaN;
    const p99 = a?.p99Millis !== undefined ? `${fmt(a.p99Millis, 2)} / ${fmt(b?.p99Millis, 2)}` : '';
    const ok = [a, b].filter(Boolean).every((r) => r!.verified) ? 'yes' : 'NO';
    console.log(`| ${s.name} | ${fmt(a?.rate)} | ${fmt(b?.rate)} | ${fmt(ratio, 2)}× | ${fmt(a?.cpuMicrosPerMessage, 1)} | ${fmt(b?.cpuMicrosPerMessage, 1)} | ${fmt(cpuRatio, 2)}× | ${p99} | ${ok} |`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

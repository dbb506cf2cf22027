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
import { activemqInstalled, type BrokerTarget, startActiveMQ, startAmqSim } from './targets.js';

const args = yargs(hideBin(process.argv))
  .option('only', { type: 'string', array: true, describe: 'Scenario groups or name fragments to run' })
  .option('scale', { type: 'number', default: 1, describe: 'Multiply message counts' })
  .option('targets', { type: 'string', array: true, default: ['amq-sim', 'activemq'], describe: 'Brokers to measure' })
  .option('work-dir', { type: 'string', default: '.bench-work', describe: 'Where stores and instance files go' })
  .option('out', { type: 'string', describe: 'Write the results as JSON here' })
  .strict()
  .parseSync();

const ALL: Scenario[] = [...THROUGHPUT_SCENARIOS, ...LATENCY_SCENARIOS];

function selected(): Scenario[] {
  if (!args.only) return ALL;
  return ALL.filter((s) => args.only!.some((o) => s.group === o || s.name.includes(o)));
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
  if (args.targets.includes('amq-sim')) {
    console.error('amq-sim:');
    results.push(...(await measure(() => startAmqSim({ persistent: false, storeDir: join(work, 'amq-sim-store') }), scenarios)));
  }
  if (args.targets.includes('activemq')) {
    if (!activemqInstalled()) console.error('ActiveMQ is not installed (apt-get install activemq): no baseline this run');
    else {
      console.error('ActiveMQ 5.17:');
      results.push(...(await measure(() => startActiveMQ({ persistent: true, storeDir: join(work, 'activemq-store') }), scenarios)));
    }
  }
  printTable(scenarios, results);
  if (args.out) writeFileSync(args.out, JSON.stringify({ date: new Date().toISOString(), loadavg: loadavg(), results }, null, 2));
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

import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { VERSION } from '../broker/version.js';
import { FAULT_ACTIONS } from '../network/connector-config.js';
import { adminOption, runBridgeFault, runBrowse, runDstat, runFault, runPurge, runScheduler, runStatus, runWhy, type SchedulerArgs } from './admin-commands.js';
import { PROCESS_FAULTS } from './cluster-supervisor.js';
import { brokerOptions, runBroker } from './broker-command.js';
import { frontDoorOptions, runFrontDoor } from './front-door-command.js';
import { clusterOptions, runCluster } from './cluster-command.js';
import { consumeOptions, runConsume } from './consume-command.js';
import { type ConfigArgs, runConfig } from './config-command.js';
import { runHashPassword } from './hash-password-command.js';
import { produceOptions, runProduce } from './produce-command.js';

export async function main(argv: string[] = hideBin(process.argv)): Promise<void> {
  await yargs(argv)
    .scriptName('amq-sim')
    .version(VERSION)
    .usage('$0 <command> [options]\n\nA STOMP broker that runs Apache ActiveMQ cluster topologies as real processes.')
    .command('broker', 'Run one broker', brokerOptions, (args) => runBroker(args))
    .command('cluster <topology..>', 'Run a topology (master-slave, network, combined, a topology file, or activemq.xml files) with each broker in its own process', clusterOptions, (args) => runCluster(args))
    .command(
      'front-door',
      "One address for a master/slave pair run as separate processes or containers: forwards each connection to the broker whose admin endpoint says it is the master (/health?role=master)",
      frontDoorOptions,
      (args) => runFrontDoor(args),
    )
    .command('produce', 'Send messages (like ActiveMQ\'s `activemq producer`)', produceOptions, (args) => runProduce(args))
    .command('consume', 'Receive messages (like ActiveMQ\'s `activemq consumer`)', consumeOptions, (args) => runConsume(args))
    .command(
      'fault <action> <broker>',
      'Inject a process fault into a broker of a running `amq-sim cluster`: kill (-9), freeze (SIGSTOP), resume (SIGCONT), restart',
      (y) =>
        y
          .positional('action', { choices: PROCESS_FAULTS, demandOption: true })
          .positional('broker', { type: 'string', demandOption: true, describe: 'Broker name, as the cluster prints it' })
          .option('cluster', { type: 'string', default: 'http://127.0.0.1:8160', describe: 'The cluster view of amq-sim cluster (--console-port); credentials as http://user:password@host:port' }),
      (args) => runFault(args as unknown as Parameters<typeof runFault>[0]),
    )
    .command('dstat [type]', "One line per destination: size, consumers, enqueued, dequeued (ActiveMQ's `activemq dstat`)", (y) => adminOption(y).positional('type', { choices: ['all', 'queues', 'topics'], default: 'all' }), (args) => runDstat(args))
    .command(
      'browse',
      "Show a queue's messages without taking them (ActiveMQ's `activemq browse`)",
      (y) =>
        adminOption(y)
          .option('destination', { type: 'string', demandOption: true, describe: 'Queue: queue://NAME, /queue/NAME or NAME' })
          .option('max', { type: 'number', describe: 'At most this many messages [default: 400]' })
          .option('json', { type: 'boolean', describe: 'Print the raw JSON' }),
      (args) => runBrowse(args),
    )
    .command(
      'why',
      'Why are the messages of a queue not moving? A plain-language diagnosis from the broker\'s live state',
      (y) => adminOption(y).option('destination', { type: 'string', demandOption: true, describe: 'Queue: queue://NAME, /queue/NAME or NAME' }).option('json', { type: 'boolean', describe: 'Print the raw JSON' }),
      (args) => runWhy(args),
    )
    .command(
      'scheduler <action> [jobId]',
      "ActiveMQ's job scheduler on a broker with schedulerSupport: browse the scheduled jobs, remove one (by scheduledJobId), remove all (optionally those due between --start and --end)",
      (y) =>
        adminOption(y)
          .positional('action', { choices: ['browse', 'remove', 'remove-all'] as const, demandOption: true })
          .positional('jobId', { type: 'string', describe: 'For remove: the job id (scheduledJobId)' })
          .option('start', { type: 'string', describe: 'Only jobs due from this time (ms since the epoch or ISO 8601; with --end)' })
          .option('end', { type: 'string', describe: 'Only jobs due up to this time (with --start)' })
          .option('max', { type: 'number', describe: 'browse: at most this many jobs [default: 400]' })
          .option('json', { type: 'boolean', describe: 'Print the raw JSON' }),
      (args) => runScheduler(args as unknown as SchedulerArgs),
    )
    .command('purge', "Delete every message of a queue (ActiveMQ's `activemq purge`)", (y) => adminOption(y).option('destination', { type: 'string', demandOption: true, describe: 'Queue: queue://NAME, /queue/NAME or NAME' }), (args) => runPurge(args))
    .command(
      'config <action> <file>',
      'print: the configuration a broker runs with from an activemq.xml, YAML or JSON file, in amq-sim\'s YAML; to-xml: the same as an activemq.xml',
      (y) => y.positional('action', { choices: ['print', 'to-xml'] as const, demandOption: true }).positional('file', { type: 'string', demandOption: true }).option('out', { type: 'string', describe: 'Write to this file instead of standard output' }),
      (args) => runConfig(args as unknown as ConfigArgs),
    )
    .command('hash-password', 'Hash a password read from standard input, for the config file, users.properties or AMQ_SIM_ADMIN_PASSWORD', {}, () => runHashPassword())
    .command('status', "Show a running broker's role, destinations and network bridges", (y) => adminOption(y).option('json', { type: 'boolean', describe: 'Print the raw JSON' }), (args) => runStatus(args))
    .command(
      'bridge <action>',
      "Inject a fault into a running broker's network bridges: stall (frames stop, heart-beats flow), blackhole (nothing moves), delay, cut, heal",
      (y) =>
        adminOption(y)
          .positional('action', { choices: FAULT_ACTIONS, demandOption: true })
          .option('bridge', { type: 'string', describe: 'Bridge name or remote broker name [default: every bridge]' })
          .option('ms', { type: 'number', describe: 'Delay in ms (for delay)' }),
      (args) => runBridgeFault(args as unknown as Parameters<typeof runBridgeFault>[0]),
    )
    .demandCommand(1, 'Name a command: broker, cluster, produce, consume, status, bridge')
    .strict()
    .fail((message, err, y) => {
      // A command that failed: bin/amq-sim.ts prints the message alone. A usage error (yargs' YError): help, then what was wrong.
      if (err && err.name !== 'YError') throw err;
      y.showHelp();
      process.stderr.write(`\n${message}\n`);
      process.exit(2);
    })
    // No hard wrapping: examples and URIs stay on one line, so they can be copied.
    .wrap(null)
    .parseAsync();
}

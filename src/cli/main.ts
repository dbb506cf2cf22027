import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { VERSION } from '../broker/version.js';
import { brokerOptions, runBroker } from './broker-command.js';

export async function main(argv: string[] = hideBin(process.argv)): Promise<void> {
  await yargs(argv)
    .scriptName('amq-sim')
    .version(VERSION)
    .usage('$0 <command> [options]\n\nA STOMP broker that runs Apache ActiveMQ cluster topologies as real processes.')
    .command('broker', 'Run one broker', brokerOptions, (args) => runBroker(args))
    .demandCommand(1, 'Name a command: broker')
    .strict()
    .wrap(Math.min(120, process.stdout.columns ?? 100))
    .parseAsync();
}

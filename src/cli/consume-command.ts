import type { Argv } from 'yargs';
import type { ReceivedMessage } from '../client/index.js';
import { type ClientArgs, clientOptions, connectClient, stompDestination } from './client-options.js';
import { numberOption } from './options.js';
import { Progress } from './progress.js';

export interface ConsumeArgs extends ClientArgs {
  ack: 'auto' | 'client' | 'client-individual';
  'idle-timeout': number;
  selector?: string;
  prefetch?: number;
  durable?: string;
  'client-id'?: string;
  print: boolean;
}

export function consumeOptions(y: Argv): Argv<ConsumeArgs> {
  return clientOptions(y, 'Messages to receive before stopping; 0: until Ctrl-C or --idle-timeout')
    .option('ack', {
      choices: ['auto', 'client', 'client-individual'] as const,
      default: 'client-individual' as const,
      describe: 'STOMP ack mode. client-individual acks each message once handled (as JMS AUTO_ACKNOWLEDGE does), so messages not yet handled go back to the queue when the tool stops; auto: the broker forgets a message once it sends it',
    })
    .option('idle-timeout', numberOption('idle-timeout', 'Stop after this many seconds without a message; 0: wait', { default: 0, min: 0 }))
    .option('selector', { type: 'string', describe: 'JMS selector, e.g. "type = \'order\' AND priority > 4"' })
    .option('prefetch', numberOption('prefetch', "activemq.prefetchSize [default: the broker's, 1000 for queues]", { min: 1, integer: true }))
    .option('durable', { type: 'string', describe: 'Durable topic subscription name (activemq.subscriptionName); needs --client-id' })
    .option('client-id', { type: 'string', describe: 'client-id header on CONNECT (durable subscriptions)' })
    .option('print', { type: 'boolean', default: false, describe: 'Print each message body on its own line' })
    .example('$0 consume --url stomp://127.0.0.1:61612 --destination /queue/orders --count 0 --idle-timeout 5', '')
    .example("$0 consume --url 'failover:(stomp://127.0.0.1:61611,stomp://127.0.0.1:61612)' --count 0", 'Keep consuming through a failover') as unknown as Argv<ConsumeArgs>;
}

/**
 * Receives until `count` messages, Ctrl-C or an idle timeout. After a
 * failover the subscription is made again; messages seen before (same
 * message-id) are counted as duplicates.
 */
export async function runConsume(args: ConsumeArgs): Promise<void> {
  if (args.durable && !args['client-id']) throw new Error('--durable needs --client-id');
  const destination = stompDestination(args.destination);
  const client = await connectClient(args, args['client-id'] ? { 'client-id': args['client-id'] } : {});
  const progress = new Progress('consumed', args.count);
  const seen = new Set<string>();
  let duplicates = 0;
  let redelivered = 0;
  let errors = 0;
  const batch = args['transaction-batch-size'];
  let tx: string | null = null;
  let inTx = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  let done = false;
  let idleTimer: NodeJS.Timeout | null = null;
  const resetIdle = () => {
    if (args['idle-timeout'] <= 0) return;
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = setTimeout(finish, args['idle-timeout'] * 1000);
  };
  process.once('SIGINT', () => finish());
  client.on('error', (err: Error) => {
    errors++;
    process.stderr.write(`Error from the broker: ${err.message}\n`);
  });
  if (batch > 0) {
    tx = await client.begin();
    // A transaction dies with its connection: after a failover, start another (its acks were lost, so those messages come again).
    client.on('connected', () => {
      inTx = 0;
      tx = `tx-reconnected-${progress.count}`;
      client.begin(tx).catch(() => errors++);
    });
  }

  const onMessage = (m: ReceivedMessage) => {
    // Past the count: leave it unacknowledged, so it goes back to the queue.
    if (done) return;
    resetIdle();
    if (seen.has(m.messageId)) duplicates++;
    else seen.add(m.messageId);
    if (m.redelivered) redelivered++;
    if (args.print) process.stdout.write(`${m.text}\n`);
    if (args.ack !== 'auto') {
      try {
        client.ack(m, tx ?? undefined);
      } catch {
        // The connection went away: the broker gives the message to someone else, or to us again after failover.
      }
    }
    progress.add();
    if (tx && ++inTx >= batch) {
      const committing = tx;
      inTx = 0;
      tx = `tx-${progress.count}`;
      client.commit(committing).catch(() => errors++);
      client.begin(tx).catch(() => errors++);
    }
    if (args.count > 0 && progress.count >= args.count) {
      done = true;
      finish();
    }
  };
  const headers: Record<string, string> = {};
  if (args.selector) headers.selector = args.selector;
  if (args.prefetch !== undefined) headers['activemq.prefetchSize'] = String(args.prefetch);
  if (args.durable) headers['activemq.subscriptionName'] = args.durable;
  await client.subscribe(destination, onMessage, { ack: args.ack, headers });
  resetIdle();
  await finished;
  done = true;
  if (idleTimer) clearTimeout(idleTimer);
  progress.stop();
  if (tx && client.connected) await client.commit(tx).catch(() => errors++);
  await client.disconnect();
  process.stdout.write(
    `Consumed ${progress.count} messages from ${destination} in ${progress.seconds.toFixed(2)} s (${Math.round(progress.rate)} msg/s), ${duplicates} duplicates, ${redelivered} redelivered, ${errors} errors\n`,
  );
  process.exitCode = errors > 0 ? 1 : 0;
}

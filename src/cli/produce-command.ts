import { setTimeout as sleep } from 'node:timers/promises';
import type { Argv } from 'yargs';
import { DUPLICATE_ID_HEADER } from '../broker/core/message.js';
import { ConnectionLostError, type StompClient } from '../client/index.js';
import { type ClientArgs, clientOptions, connectClient, stompDestination } from './client-options.js';
import { numberOption } from './options.js';
import { Progress } from './progress.js';

export interface ProduceArgs extends ClientArgs {
  size: number;
  persistent: boolean;
  rate: number;
  window: number;
  header?: string[];
}

export function produceOptions(y: Argv): Argv<ProduceArgs> {
  return clientOptions(y, 'Messages to send')
    .option('size', numberOption('size', "Body size in bytes; 0: a short text ('test message: N')", { alias: 'message-size', default: 0, min: 0, integer: true }))
    .option('persistent', { type: 'boolean', default: true, describe: 'Send persistent:true (as ActiveMQ\'s producer tool does); --no-persistent for STOMP\'s default' })
    .option('rate', numberOption('rate', 'Messages per second; 0: as fast as receipts allow', { default: 0, min: 0 }))
    .option('window', numberOption('window', 'Sends awaiting their RECEIPT at once', { default: 100, min: 1, integer: true }))
    .option('header', { type: 'string', array: true, describe: 'Extra header NAME=VALUE, repeatable' })
    .example('$0 produce --url stomp://127.0.0.1:61611 --destination /queue/orders --count 10000', '')
    .example("$0 produce --url 'failover:(stomp://127.0.0.1:61611,stomp://127.0.0.1:61612)' --rate 100 --count 0", 'Keep sending through a failover') as unknown as Argv<ProduceArgs>;
}

function makeBody(i: number, size: number): Buffer {
  const text = `test message: ${i}`;
  if (size <= 0) return Buffer.from(text);
  const body = Buffer.alloc(size, '.');
  body.write(text.slice(0, size));
  return body;
}

function parseHeaders(list: string[] = []): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new Error(`--header must be NAME=VALUE, not '${item}'`);
    headers[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return headers;
}

/**
 * Sends `count` messages, each confirmed by a RECEIPT. A send whose receipt a
 * lost connection took away is sent again once failover has reconnected:
 * nothing is lost, and since every message carries a duplicate-detection id
 * (`_AMQ_DUPL_ID`), amq-sim stores one the broker had already stored only once
 * (ActiveMQ ignores the header: there it may arrive twice). The final line
 * counts the re-sends.
 */
export async function runProduce(args: ProduceArgs): Promise<void> {
  const destination = stompDestination(args.destination);
  const headers = parseHeaders(args.header);
  if (args.persistent) headers.persistent = 'true';
  const client = await connectClient(args);
  const progress = new Progress('produced', args.count);
  let errors = 0;
  let resent = 0;
  let fatal: Error | null = null;
  let stopped = false;
  process.once('SIGINT', () => (stopped = true));
  const run = `${process.pid}-${Date.now()}`;

  /** Runs `attempt` until it succeeds, waiting for failover after each lost connection. */
  const untilDelivered = async (attempt: () => Promise<void>, messages: number): Promise<void> => {
    for (;;) {
      try {
        await client.whenConnected();
        await attempt();
        progress.add(messages);
        return;
      } catch (err) {
        if (!(err instanceof ConnectionLostError) || fatal) {
          errors += messages;
          fatal ??= err as Error;
          return;
        }
        resent += messages;
      }
    }
  };

  const paced = async (i: number) => {
    if (args.rate > 0) {
      const due = (i / args.rate) * 1000 - progress.seconds * 1000;
      if (due > 0) await sleep(due);
    }
  };

  const infinite = args.count <= 0;
  const batch = args['transaction-batch-size'];
  if (batch > 0) {
    for (let i = 0; (infinite || i < args.count) && !fatal && !stopped; i += batch) {
      const n = infinite ? batch : Math.min(batch, args.count - i);
      await paced(i);
      await untilDelivered(() => sendTransaction(client, destination, headers, i, n, args.size), n);
    }
  } else {
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; (infinite || i < args.count) && !fatal && !stopped; i++) {
      await paced(i);
      const body = makeBody(i, args.size);
      // The same duplicate-detection id on a re-send: the broker stores the message once, whether or not the lost receipt's send got through.
      const withId = { ...headers, [DUPLICATE_ID_HEADER]: `${run}:${i}` };
      const p = untilDelivered(() => client.sendWithReceipt(destination, body, withId), 1).finally(() => inFlight.delete(p));
      inFlight.add(p);
      if (inFlight.size >= args.window) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  }
  progress.stop();
  await client.disconnect();
  if (fatal) process.stderr.write(`Error: ${(fatal as Error).message}\n`);
  process.stdout.write(
    `Produced ${progress.count} messages to ${destination} in ${progress.seconds.toFixed(2)} s (${Math.round(progress.rate)} msg/s), ${errors} errors${resent ? `, ${resent} sent again after a reconnect` : ''}\n`,
  );
  process.exitCode = errors > 0 ? 1 : 0;
}

async function sendTransaction(client: StompClient, destination: string, headers: Record<string, string>, first: number, n: number, size: number): Promise<void> {
  const tx = await client.begin();
  for (let i = first; i < first + n; i++) client.send(destination, makeBody(i, size), { ...headers, transaction: tx });
  await client.commit(tx);
}

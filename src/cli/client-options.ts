import type { Argv } from 'yargs';
import { type ClientOptions, StompClient } from '../client/index.js';
import { numberOption } from './options.js';
import { readTlsFiles } from '../transport/tls.js';

export interface ClientArgs {
  url: string;
  destination: string;
  count: number;
  'transaction-batch-size': number;
  user?: string;
  password?: string;
  ca?: string;
  cert?: string;
  key?: string;
}

/** Options `produce` and `consume` share, with ActiveMQ's producer/consumer tools' names as aliases. */
export function clientOptions<T>(y: Argv<T>, countDescription: string): Argv<T & ClientArgs> {
  return y
    .option('url', {
      alias: 'broker-url',
      type: 'string',
      default: 'stomp://127.0.0.1:61613',
      describe: 'Broker URI: stomp://host:port, or failover:(stomp://a:61611,stomp://b:61612)?randomize=false&initialReconnectDelay=100&maxReconnectAttempts=-1',
    })
    .option('destination', { type: 'string', default: '/queue/TEST', describe: 'Destination: /queue/NAME, /topic/NAME, or ActiveMQ\'s queue://NAME, topic://NAME' })
    .option('count', numberOption('count', countDescription, { alias: 'message-count', default: 1000, min: 0, integer: true }))
    .option('transaction-batch-size', numberOption('transaction-batch-size', 'Messages per transaction (BEGIN … COMMIT); 0: no transactions', { default: 0, min: 0, integer: true }))
    .option('user', { type: 'string', describe: 'login header' })
    .option('password', { type: 'string', describe: 'passcode header' })
    .option('ca', { type: 'string', describe: 'For stomp+ssl:// and wss://: PEM file of the CA that signed the broker\'s certificate [default: the system\'s CAs]' })
    .option('cert', { type: 'string', describe: 'PEM client certificate, for a connector with needClientAuth=true' })
    .option('key', { type: 'string', describe: 'PEM private key of --cert' }) as unknown as Argv<T & ClientArgs>;
}

/** `queue://A` → `/queue/A`, as ActiveMQ's tools name destinations; STOMP names pass through. */
export function stompDestination(text: string): string {
  const m = /^(queue|topic|temp-queue|temp-topic):\/\/(.+)$/.exec(text);
  return m ? `/${m[1]}/${m[2]}` : text;
}

/** Connects (with failover when the URI says so) and reports connection events on stderr. */
export async function connectClient(args: ClientArgs, extraHeaders: Record<string, string> = {}): Promise<StompClient> {
  const connectHeaders: Record<string, string> = { ...extraHeaders };
  if (args.user !== undefined) connectHeaders.login = args.user;
  if (args.password !== undefined) connectHeaders.passcode = args.password;
  const options: ClientOptions = {
    connectHeaders,
    tls: readTlsFiles({ caFile: args.ca ?? null, certFile: args.cert ?? null, keyFile: args.key ?? null }, 'option'),
    heartBeat: [5000, 5000],
    onEvent: (event, detail) => {
      if (event === 'connected') process.stderr.write(`Connected to ${String(detail.address)}\n`);
      if (event === 'disconnected') process.stderr.write(`Connection lost: ${String(detail.error)}; reconnecting\n`);
    },
  };
  return StompClient.connect(args.url, options).catch((err: Error) => {
    throw new Error(`Cannot connect to ${args.url}: ${err.message}`);
  });
}

/**
 * A client that declares itself a network bridge could set message ids,
 * paths and timestamps, and so poison the hub's duplicate detection: real
 * messages from an edge would be receipted and dropped. Only connections
 * authenticated as a bridge may be one (a user in a bridge group, or the
 * cluster's bridge secret); everything else is refused or stripped.
 */
import { describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/broker.js';
import { eventually, sleep } from '../helpers/broker.js';
import { RawStompSocket } from '../helpers/raw-socket.js';
import { destination } from '../../src/broker/core/destination.js';
import { BrokerMessage } from '../../src/broker/core/message.js';
import { BATCH_HEADER, encodeBatch } from '../../src/network/batch.js';
import { broker, bridgesUp, consumer, sendAll, url } from '../network/helpers.js';

function hello(pretending: Broker): string {
  return JSON.stringify({ brokerName: pretending.brokerName, brokerId: pretending.brokerId, connector: 'NC', duplex: false });
}

/** A bridge CONNECT from a raw socket: the frame the broker answers with, and whether it then closed. */
async function forgeBridge(target: Broker, pretending: Broker, extraHeaders = ''): Promise<{ command: string; message?: string; closed: boolean }> {
  const raw = await RawStompSocket.connect(target.port());
  raw.write(`CONNECT\naccept-version:1.2\nhost:localhost\n${extraHeaders}amq-sim-bridge:${hello(pretending)}\n\n\0`);
  const frame = await raw.next();
  if (frame.command === 'ERROR') await raw.waitClosed();
  const closed = raw.closed;
  raw.close();
  return { command: frame.command, message: frame.headers.message, closed };
}

/** What the attacker did: batches of one message each, whose identity names the ids the edge is about to give its own. */
async function poison(hub: Broker, edge: Broker, count: number): Promise<void> {
  const raw = await RawStompSocket.connect(hub.port());
  await raw.connect();
  for (let i = 1; i <= count; i++) {
    const forged = new BrokerMessage({ id: `${edge.ids.runId}:m${i}`, destination: destination('queue', 'orders'), headers: {}, body: Buffer.from('forged'), persistent: true, priority: 4, expiration: 0, timestamp: Date.now() });
    const body = encodeBatch([{ message: forged }], edge.brokerName);
    raw.write(Buffer.concat([Buffer.from(`SEND\ndestination:/queue/orders\n${BATCH_HEADER}:1\ncontent-length:${body.length}\n\n`), body, Buffer.from([0])]));
  }
  raw.write('SEND\ndestination:/queue/orders\nreceipt:done\n\nlast forged\0');
  await raw.next('RECEIPT');
  raw.close();
}

describe('bridges cannot be forged', () => {
  it('without users: refuses a bridge CONNECT that lacks the cluster secret, strips forged metadata, and the edge\'s 400 messages all arrive', async () => {
    const bridgeAuthentication = { groups: 'bridges', secret: 'cluster-secret-1' };
    const hub = await broker('hub', [], { bridgeAuthentication });
    const edge = await broker('edge', [`static:(${url(hub)})`], { bridgeAuthentication });
    await bridgesUp(edge);

    expect(await forgeBridge(hub, edge)).toEqual({ command: 'ERROR', message: 'User (not authenticated) is not authorized to act as a network bridge', closed: true });
    expect(await forgeBridge(hub, edge, 'amq-sim-bridge-secret:guessed\n')).toMatchObject({ command: 'ERROR', closed: true });

    const onHub = await consumer(hub, '/queue/orders');
    await poison(hub, edge, 1200);
    await eventually(() => onHub.got.length === 1201, 5000, 'the forged messages, as plain messages');
    // Plain messages: the hub's own ids, no bridge header kept, the batch's bytes as the body.
    expect(onHub.got.every((m) => m.messageId.startsWith(hub.ids.runId) && m.headers[BATCH_HEADER] === undefined)).toBe(true);

    await eventually(() => (edge.status().network as { bridges: Array<{ demand: { forwarding: unknown[] } }> }).bridges[0].demand.forwarding.length > 0, 5000, 'demand for /queue/orders on the edge');
    await sendAll(edge, '/queue/orders', 400, { persistent: 'true' }, 'real');
    await eventually(() => onHub.got.filter((m) => m.text.startsWith('real')).length === 400, 5000, 'all 400 real messages on the hub');
  });

  it('without users or secret: takes a bridge only from this host', async () => {
    const hub = await broker('hub');
    const edge = await broker('edge', [`static:(${url(hub)})`]);
    await bridgesUp(edge);
    expect((await forgeBridge(hub, edge)).command).toBe('CONNECTED');
  });

  it('with users: a bridge must log in as a user of a bridge group; a wrong password keeps the bridge down with ActiveMQ\'s text', async () => {
    const plugins = {
      simpleAuthenticationPlugin: {
        users: [
          { username: 'edge-bridge', password: 'bridge-pw', groups: 'bridges' },
          { username: 'alice', password: 'alice-pw', groups: 'users' },
        ],
      },
    };
    const hub = await broker('hub', [], { plugins });
    const wrong = await broker('edge-a', [`static:(${url(hub)})?userName=edge-bridge&password=guess`]);
    const right = await broker('edge-b', [`static:(${url(hub)})?userName=edge-bridge&password=bridge-pw`]);
    await bridgesUp(right);
    await sleep(300);
    const bridge = (b: Broker) => (b.status().network as { bridges: Array<{ state: string; lastError: string | null }> }).bridges[0];
    expect(bridge(wrong).state).not.toBe('up');
    expect(bridge(wrong).lastError).toContain('User name [edge-bridge] or password is invalid.');
    expect(await forgeBridge(hub, right, 'login:alice\npasscode:alice-pw\n')).toEqual({ command: 'ERROR', message: 'User alice is not authorized to act as a network bridge', closed: true });
    expect((await forgeBridge(hub, right)).message).toBe('User name [null] or password is invalid.');
  });
});

/**
 * Users, groups and per-destination rights as ActiveMQ's
 * simpleAuthenticationPlugin / jaasAuthenticationPlugin and
 * authorizationPlugin give them, over TCP and WebSocket alike: who may
 * connect, send, subscribe and browse, with ActiveMQ's ERROR texts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/broker.js';
import { StompClient, type ReceivedMessage } from '../../src/client/index.js';
import type { PluginsConfig } from '../../src/config/security.js';
import { hashPassword } from '../../src/security/password.js';
import { eventually, startBroker, trackClient } from '../helpers/broker.js';
import { RawStompSocket } from '../helpers/raw-socket.js';
import { tempDir } from '../helpers/temp-dir.js';

const AUTHORIZATION: PluginsConfig['authorizationPlugin'] = {
  entries: [
    { queue: '>', read: 'admins', write: 'admins', admin: 'admins' },
    { queue: 'orders.>', read: 'users', write: 'users', admin: 'users' },
    { queue: 'public', read: '*', write: 'guests', admin: 'admins' },
    { topic: 'prices.*', read: 'guests,users', write: 'admins', admin: 'admins,users' },
  ],
  tempDestinationAuthorizationEntry: { read: 'users', write: 'users', admin: 'users' },
};

const SIMPLE: PluginsConfig = {
  simpleAuthenticationPlugin: {
    users: [
      { username: 'admin', password: 'admin-secret', groups: 'admins' },
      { username: 'alice', password: hashPassword('wonderland'), groups: 'users' },
      { username: 'guest', password: 'guest', groups: 'guests' },
    ],
  },
  authorizationPlugin: AUTHORIZATION,
};

function jaas(): PluginsConfig {
  const dir = tempDir('jaas');
  writeFileSync(join(dir, 'users.properties'), `# JAAS PropertiesLoginModule users\nadmin=admin-secret\nalice=${hashPassword('wonderland')}\nguest = guest\n`);
  writeFileSync(join(dir, 'groups.properties'), 'admins=admin\nusers=alice\nguests=guest\n');
  return { jaasAuthenticationPlugin: { users: join(dir, 'users.properties'), groups: join(dir, 'groups.properties') }, authorizationPlugin: AUTHORIZATION };
}

type Transport = 'stomp' | 'ws';

async function securedBroker(plugins: PluginsConfig): Promise<Broker> {
  return startBroker({ transportConnectors: ['stomp://127.0.0.1:0', 'ws://127.0.0.1:0'], plugins });
}

function url(broker: Broker, transport: Transport): string {
  return transport === 'ws' ? `ws://127.0.0.1:${broker.port('ws')}` : `stomp://127.0.0.1:${broker.port()}`;
}

async function login(broker: Broker, transport: Transport, user?: string, password?: string): Promise<StompClient> {
  const connectHeaders: Record<string, string> = { 'accept-version': '1.2' };
  if (user !== undefined) connectHeaders.login = user;
  if (password !== undefined) connectHeaders.passcode = password;
  return trackClient(await StompClient.connect(url(broker, transport), { connectHeaders }));
}

/** The ERROR message a refused operation ends with. */
async function refusal(work: Promise<unknown>): Promise<string> {
  try {
    await work;
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
}

describe.each<Transport>(['stomp', 'ws'])('authentication and authorization over %s', (transport) => {
  it.each([
    ['simpleAuthenticationPlugin', () => SIMPLE],
    ['jaasAuthenticationPlugin', jaas],
  ])('%s: a wrong or missing login gets ActiveMQ\'s text; plain and hashed passwords let users in', async (_, plugins) => {
    const broker = await securedBroker(plugins());
    expect(await refusal(login(broker, transport, 'alice', 'looking-glass'))).toBe('User name [alice] or password is invalid.');
    expect(await refusal(login(broker, transport, 'mallory', 'x'))).toBe('User name [mallory] or password is invalid.');
    expect(await refusal(login(broker, transport))).toBe('User name [null] or password is invalid.');
    const alice = await login(broker, transport, 'alice', 'wonderland');
    await alice.sendWithReceipt('/queue/orders.new', 'one');
    const admin = await login(broker, transport, 'admin', 'admin-secret');
    await admin.sendWithReceipt('/queue/payroll', 'salaries');
    expect(broker.router.queues.get('queue://orders.new')?.size).toBe(1);
  });

  it('each user may send, subscribe and create only where an entry gives one of their groups the right', async () => {
    const broker = await securedBroker(SIMPLE);
    const admin = await login(broker, transport, 'admin', 'admin-secret');
    await admin.sendWithReceipt('/queue/payroll', 'salaries');
    await admin.sendWithReceipt('/queue/public', 'notice');

    // The destination exists, alice's groups may not write it.
    expect(await refusal((await login(broker, transport, 'alice', 'wonderland')).sendWithReceipt('/queue/payroll', 'raise'))).toBe('User alice is not authorized to write to: queue://payroll');
    // It does not exist yet: creating it takes admin rights.
    expect(await refusal((await login(broker, transport, 'alice', 'wonderland')).sendWithReceipt('/queue/bonus', 'x'))).toBe('User alice is not authorized to create: queue://bonus');
    expect(broker.router.queues.has('queue://bonus')).toBe(false);
    expect(await refusal((await login(broker, transport, 'guest', 'guest')).subscribe('/queue/payroll', () => {}))).toBe('User guest is not authorized to read from: queue://payroll');
    expect(await refusal((await login(broker, transport, 'alice', 'wonderland')).subscribe('/queue/>', () => {}))).toBe('User alice is not authorized to read from: queue://>');
    expect(await refusal((await login(broker, transport, 'guest', 'guest')).subscribe('/queue/payroll', () => {}, { headers: { browser: 'true' } }))).toBe(
      'User guest is not authorized to read from: queue://payroll',
    );
    // Temporary destinations follow tempDestinationAuthorizationEntry.
    expect(await refusal((await login(broker, transport, 'guest', 'guest')).subscribe('/temp-queue/replies', () => {}))).toMatch(/^User guest is not authorized to read from: temp-queue:\/\/.+/);
    expect(await refusal((await login(broker, transport, 'guest', 'guest')).sendWithReceipt('/topic/prices.usd', '1.0'))).toBe('User guest is not authorized to create: topic://prices.usd');
  });

  it('lets each user do what their groups are given, wildcards included', async () => {
    const broker = await securedBroker(SIMPLE);
    const alice = await login(broker, transport, 'alice', 'wonderland');
    const guest = await login(broker, transport, 'guest', 'guest');
    const admin = await login(broker, transport, 'admin', 'admin-secret');
    const orders: ReceivedMessage[] = [];
    await alice.subscribe('/queue/orders.>', (m) => orders.push(m));
    const prices: ReceivedMessage[] = [];
    await alice.subscribe('/topic/prices.usd', () => {});
    await guest.subscribe('/topic/prices.usd', (m) => prices.push(m));
    await admin.sendWithReceipt('/topic/prices.usd', '1.07');
    await alice.sendWithReceipt('/queue/orders.eu', 'o1');
    await admin.sendWithReceipt('/queue/orders.us', 'o2');
    await admin.sendWithReceipt('/queue/public', 'notice');
    await guest.sendWithReceipt('/queue/public', 'hello');
    const pub: ReceivedMessage[] = [];
    await guest.subscribe('/queue/public', (m) => pub.push(m));
    const replies: ReceivedMessage[] = [];
    await alice.subscribe('/temp-queue/replies', (m) => replies.push(m));
    await alice.sendWithReceipt('/temp-queue/replies', 'to myself');
    await eventually(() => orders.length === 2 && prices.length === 1 && pub.length === 2 && replies.length === 1, 5000, 'every permitted message');
    expect(orders.map((m) => m.text).sort()).toEqual(['o1', 'o2']);
    expect(pub.map((m) => m.text)).toEqual(['notice', 'hello']);
  });
});

describe('a password checked off the event loop', () => {
  it('keeps the frames a client sends right behind CONNECT, in order, until the check is done', async () => {
    const broker = await securedBroker(SIMPLE);
    const raw = await RawStompSocket.connect(broker.port());
    raw.write(
      'CONNECT\naccept-version:1.2\nhost:localhost\nlogin:alice\npasscode:wonderland\n\n\0' +
        'SUBSCRIBE\nid:0\ndestination:/queue/orders.pipelined\n\n\0' +
        'SEND\ndestination:/queue/orders.pipelined\nreceipt:r1\n\nfirst\0',
    );
    expect((await raw.next()).command).toBe('CONNECTED');
    expect((await raw.next()).command).toBe('MESSAGE');
    expect((await raw.next()).headers['receipt-id']).toBe('r1');
    raw.close();
  });

  it('answers a wrong one with ERROR and a close, and nothing sent behind it is taken', async () => {
    const broker = await securedBroker(SIMPLE);
    const raw = await RawStompSocket.connect(broker.port());
    raw.write('CONNECT\naccept-version:1.2\nlogin:alice\npasscode:nope\nreceipt:c\n\n\0SEND\ndestination:/queue/orders.sneaky\n\nx\0');
    const error = await raw.next();
    expect(error.command).toBe('ERROR');
    expect(error.headers.message).toBe('User name [alice] or password is invalid.');
    await raw.waitClosed();
    expect(broker.router.queues.has('queue://orders.sneaky')).toBe(false);
  });
});

describe('anonymous access', () => {
  it('lets a CONNECT without login in as anonymousUser in anonymousGroup, with that group\'s rights only', async () => {
    const broker = await securedBroker({
      simpleAuthenticationPlugin: { anonymousAccessAllowed: true, users: [{ username: 'admin', password: 'admin-secret', groups: 'admins' }] },
      authorizationPlugin: { entries: [{ queue: 'inbox', read: 'admins', write: 'anonymous', admin: 'anonymous,admins' }, { queue: 'private', read: 'admins', write: 'admins', admin: 'admins' }] },
    });
    const anonymous = await login(broker, 'stomp');
    await anonymous.sendWithReceipt('/queue/inbox', 'from nobody');
    expect(await refusal(anonymous.subscribe('/queue/inbox', () => {}))).toBe('User anonymous is not authorized to read from: queue://inbox');
    // A login that is given must still be right.
    expect(await refusal(login(broker, 'stomp', 'admin', 'wrong'))).toBe('User name [admin] or password is invalid.');
  });
});

describe('the job scheduler under authorization', () => {
  it("sends a BROWSE's copies of the jobs only to a reply-to the browsing user may write to", async () => {
    const broker = await startBroker({
      schedulerSupport: true,
      plugins: {
        ...SIMPLE,
        authorizationPlugin: { entries: [...AUTHORIZATION!.entries, { queue: 'ActiveMQ.Scheduler.>', read: 'users', write: 'users', admin: 'users' }] },
      },
    });
    const admin = await login(broker, 'stomp', 'admin', 'admin-secret');
    await admin.sendWithReceipt('/queue/payroll', 'salaries');
    await admin.sendWithReceipt('/queue/payroll', 'bonus', { AMQ_SCHEDULED_DELAY: '3600000' });
    const browse = (replyTo: string) => login(broker, 'stomp', 'alice', 'wonderland').then((alice) => alice.sendWithReceipt('/queue/ActiveMQ.Scheduler.Management', '', { AMQ_SCHEDULER_ACTION: 'BROWSE', 'reply-to': replyTo }));
    expect(await refusal(browse('/queue/payroll'))).toBe('User alice is not authorized to write to: queue://payroll');
    expect(broker.router.queues.get('queue://payroll')?.size).toBe(1);
    await browse('/queue/orders.jobs');
    await eventually(() => broker.router.queues.get('queue://orders.jobs')?.size === 1, 2000, 'the job browsed to a queue alice may write to');
  });
});

// The console of one broker: the tabs of ActiveMQ's web console, from
// GET /api/status every two seconds; operations through POST /api/broker/*
// and POST /api/network/*.
import { action, bytes, delayArgs, el, getJson, notice, post, table } from './common.js';

const REFRESH_MS = 2000;
let status = null;
let current = null;

const view = () => document.getElementById('view');
const text = (v) => (v === undefined || v === null || v === '' ? '-' : String(v));

function header() {
  document.getElementById('broker-name').textContent = status.brokerName;
  document.title = `${status.brokerName} — amq-sim console`;
  const role = document.getElementById('role');
  role.textContent = status.role;
  role.className = `badge ${status.role}`;
  const u = status.usage;
  document.getElementById('summary').textContent =
    `${status.brokerId} · up ${status.uptimeSeconds} s · ${status.connections} connections · memory ${u.memory.percent}% · store ${u.store.percent}% · temp ${u.temp.percent}%`;
}

const tabs = {
  queues: () => {
    const list = el('div');
    const browser = el('div', { id: 'browse' });
    const destination = el('input', { name: 'destination', placeholder: 'queue://orders', required: true });
    const body = el('textarea', { name: 'body', rows: 2, cols: 40 });
    const persistent = el('input', { type: 'checkbox', name: 'persistent' });
    const form = el('form', { id: 'send-form', onsubmit: (e) => {
      e.preventDefault();
      void action('Send', async () => {
        const r = await post('/api/broker/send', { destination: destination.value, body: body.value, persistent: String(persistent.checked) });
        return `Sent ${r.messageId}`;
      })();
    } }, el('label', {}, 'Send to ', destination), el('label', {}, 'body ', body), el('label', {}, persistent, ' persistent'), el('button', { type: 'submit' }, 'Send'));

    const browse = async (queue) => {
      const r = await post('/api/broker/browse', { queue });
      browser.replaceChildren(
        el('h3', {}, `Messages on ${queue} (${r.messages.length} shown)`),
        table(['message id', 'priority', 'persistent', 'redelivered', 'timestamp', 'headers', 'body', ''], r.messages.map((m) => ({
          attrs: { 'data-message': m.messageId },
          cells: [m.messageId, m.priority, String(m.persistent), String(m.redelivered), new Date(m.timestamp).toISOString(),
            el('pre', {}, Object.entries(m.headers).map(([k, v]) => `${k}: ${v}`).join('\n')),
            el('pre', {}, m.encoding === 'utf8' ? m.body : `(${m.size} bytes, base64) ${m.body}`),
            el('span', {},
              el('button', { onclick: transfer('move', queue, m.messageId) }, 'Move'),
              el('button', { onclick: transfer('copy', queue, m.messageId) }, 'Copy'),
              el('button', { onclick: action('Delete message', async () => { await post('/api/broker/remove-message', { queue, messageId: m.messageId }); await browse(queue); }) }, 'Delete'))],
        })), { id: 'messages' }),
      );
    };
    const why = async (queue) => {
      const d = await post('/api/broker/why', { destination: queue });
      browser.replaceChildren(el('h3', {}, `Why ${queue} is not moving (${d.pending} pending, ${d.consumers.local} local and ${d.consumers.network} network consumers)`), el('ul', { class: 'diagnosis', id: 'diagnosis' }, d.findings.map((f) => el('li', {}, f))));
    };
    const transfer = (how, queue, messageId) => action(how === 'move' ? 'Move' : 'Copy', async () => {
      const to = prompt(`${how === 'move' ? 'Move' : 'Copy'} ${messageId} to queue:`);
      if (!to) return 'Cancelled';
      await post(`/api/broker/${how}`, { queue, messageId, to });
      await browse(queue);
      return `${how === 'move' ? 'Moved' : 'Copied'} to ${to}`;
    });

    return {
      nodes: [form, list, browser],
      update: () => list.replaceChildren(table(
        ['queue', 'pending', 'in store only', 'memory', 'consumers', 'enqueued', 'dequeued', ''],
        status.queues.map((q) => ({
          attrs: { 'data-queue': q.name },
          cells: [q.name, q.pending, q.inStore, bytes(q.memory), q.consumers, q.enqueued, q.dequeued, el('span', {},
            el('button', { onclick: action('Browse', () => browse(q.name).then(() => `Browsed ${q.name}`)) }, 'Browse'),
            el('button', { onclick: action('Why', () => why(q.name).then(() => `Diagnosed ${q.name}`)) }, 'Why?'),
            el('button', { onclick: action('Purge', async () => `Purged ${(await post('/api/broker/purge', { queue: q.name })).purged} messages from ${q.name}`) }, 'Purge'),
            el('button', { onclick: action('Delete', async () => { if (!confirm(`Delete queue ${q.name} and its messages?`)) return 'Cancelled'; await post('/api/broker/delete', { queue: q.name }); return `Deleted ${q.name}`; }) }, 'Delete'))],
        })),
        { id: 'queues' },
      )),
    };
  },

  topics: () => {
    const list = el('div');
    return {
      nodes: [list],
      update: () => list.replaceChildren(table(['topic', 'subscriptions', 'enqueued', ''], status.topics.map((t) => ({
        attrs: { 'data-topic': t.name },
        cells: [t.name, t.subscriptions, t.enqueued, el('button', { onclick: action('Delete', async () => { await post('/api/broker/delete', { topic: t.name }); return `Deleted ${t.name}`; }) }, 'Delete')],
      })), { id: 'topics' })),
    };
  },

  subscribers: () => {
    const list = el('div');
    return {
      nodes: [el('h3', {}, 'Durable topic subscribers'), list],
      update: () => list.replaceChildren(table(['subscription (client id:name)', 'topic', 'active', 'pending'], status.durableSubscriptions.map((s) => ({
        cells: [s.key, s.destination, s.active ? 'active' : 'offline', s.pending],
      })), { id: 'subscribers' })),
    };
  },

  connections: () => {
    const list = el('div');
    return {
      nodes: [list],
      update: async () => {
        const { connections } = await post('/api/broker/connections');
        list.replaceChildren(table(['connection', 'client id', 'remote address', 'transport', 'STOMP', 'subscriptions', 'in', 'out', 'since', ''], connections.map((c) => ({
          attrs: { 'data-connection': c.connectionId },
          cells: [c.connectionId, text(c.clientId), c.remoteAddress, c.transport, c.version, c.subscriptions, c.messagesIn, c.messagesOut, c.connectedAt,
            el('button', { onclick: action('Close', async () => { await post('/api/broker/close-connection', { connectionId: c.connectionId }); return `Closed ${c.connectionId}`; }) }, 'Close')],
        })), { id: 'connections' }));
      },
    };
  },

  network: () => {
    const list = el('div');
    const fault = (name, kind) => action(`${kind} ${name}`, async () => (await post(`/api/network/${kind}`, { bridge: name, ...delayArgs(kind) })).results.join('; '));
    return {
      nodes: [list],
      update: () => {
        const net = status.network;
        if (!net) return list.replaceChildren(el('p', {}, 'This broker has no network connectors.'));
        list.replaceChildren(
          el('h3', {}, 'Bridges this broker opened'),
          table(['bridge', 'remote broker', 'state', 'since', 'duplex', 'forwarded', 'acknowledged', 'in flight', 'received', 'last progress', 'demand', 'last error', ''], net.bridges.map((b) => ({
            attrs: { 'data-bridge': b.name },
            cells: [b.name, text(b.remoteBrokerName), { text: b.state + (b.fault ? ` (${b.fault.kind})` : ''), class: `state-${b.state}` }, b.since, String(b.duplex), b.forwarded, b.acknowledged, b.inFlight, b.received, text(b.lastActivity),
              [...b.demand.forwarding.map((d) => `→ ${d.destination} (${d.consumers})`), ...b.demand.pulling.map((d) => `← ${d.destination} (${d.consumers})`)].join('\n') || '-',
              text(b.lastError),
              el('span', {}, ['stall', 'delay', 'cut', 'heal'].map((k) => el('button', { onclick: fault(b.name, k) }, k)))],
          })), { id: 'bridges' }),
          el('h3', {}, 'Bridges other brokers opened to this one'),
          table(['remote broker', 'address', 'duplex', 'since'], net.inbound.map((b) => ({ cells: [b.remoteBrokerName, b.remoteAddress, String(b.createdByDuplex), b.since] }))),
        );
      },
    };
  },

  broker: () => {
    const list = el('div');
    return {
      nodes: [list],
      update: () => {
        const lock = status.lock;
        const rows = [
          ['name', status.brokerName], ['id', status.brokerId], ['role', status.role], ['version', status.version], ['pid', status.pid], ['uptime', `${status.uptimeSeconds} s`],
          ['lock file', lock ? lock.path : 'none (no shared store)'], ['lock held', lock ? String(lock.held) : '-'],
          ['lock polling', lock ? `every ${lock.pollMs} ms while a slave (lockAcquireSleepInterval)` : '-'],
          ['lock holder', lock && lock.holder ? `${lock.holder.brokerName} (pid ${lock.holder.pid} on ${lock.holder.host}, since ${lock.holder.acquiredAt})` : '-'],
          ...status.connectors.map((c) => [`connector ${c.uri}`, `${c.address} · ${c.connections} connections`]),
          ...['memory', 'store', 'temp'].map((k) => [`${k} usage`, `${bytes(status.usage[k].used)} of ${bytes(status.usage[k].limit)} (${status.usage[k].percent}%)`]),
          ['resident memory', bytes(status.rss)],
        ];
        list.replaceChildren(table(['', ''], rows.map((r) => ({ cells: r })), { id: 'broker' }));
      },
    };
  },
};

function show(name) {
  const tab = tabs[name] ? name : 'queues';
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.tab === tab);
  current = tabs[tab]();
  view().replaceChildren(...current.nodes);
  if (status) void Promise.resolve(current.update()).catch((err) => notice(err.message));
}

async function refresh() {
  try {
    status = await getJson('/api/status');
    header();
    await current.update();
  } catch (err) {
    notice(`Cannot read the broker's status: ${err.message}`);
  }
}

window.addEventListener('hashchange', () => show(location.hash.slice(1)));
show(location.hash.slice(1));
void refresh();
setInterval(() => void refresh(), REFRESH_MS);

// The cluster view: every broker of `amq-sim cluster`, its store and its
// bridges, drawn from GET /api/status once a second; faults as buttons
// (POST /api/cluster/*).
import { action, delayArgs, el, getJson, notice, post, table } from './common.js';

const REFRESH_MS = 1000;
const SVG = 'http://www.w3.org/2000/svg';
const BOX = { w: 190, h: 120, gap: 50, top: 120 };
const STORE_Y = 320;

let previous = null;

const svg = (tag, attrs = {}, text) => {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
};

/** master, slave, down (no process), frozen (SIGSTOP), or what the broker says. */
function roleOf(b) {
  if (b.state === 'exited') return 'down';
  if (b.state === 'frozen') return 'frozen';
  if (!b.status) return b.error ?? 'no answer';
  return b.status.role;
}

const ROLE_COLORS = { master: '#2e7d32', slave: '#f9a825', down: '#c62828', frozen: '#1565c0' };
const portOf = (url) => url.replace(/^.*:(\d+).*$/, '$1');

/** The broker a bridge goes to: by the name the remote gave, else by its address. */
function target(cluster, bridge) {
  const byName = cluster.brokers.find((b) => b.name === bridge.remoteBrokerName);
  if (byName) return byName;
  return cluster.brokers.find((b) => bridge.addresses.some((a) => portOf(a) === portOf(b.stompUrl)));
}

/** Messages a second a bridge carried (forwarded, and pulled when duplex) since the last refresh. */
function rate(broker, bridge, now) {
  const before = previous?.brokers.find((b) => b.name === broker.name)?.status?.network?.bridges.find((x) => x.name === bridge.name);
  if (!before || !previous) return 0;
  const moved = bridge.forwarded + bridge.received - (before.forwarded + before.received);
  return Math.max(0, Math.round((moved * 1000) / (now - previous.at)));
}

/** The topology's order, with the brokers of one store side by side under it. */
function drawingOrder(brokers) {
  const order = [];
  for (const b of brokers) {
    if (order.includes(b)) continue;
    order.push(b, ...brokers.filter((o) => b.sharesStoreWith.includes(o.name) && !order.includes(o)));
  }
  return order;
}

function draw(cluster, now) {
  const root = document.getElementById('topology');
  const x = (i) => 20 + i * (BOX.w + BOX.gap);
  const at = new Map(drawingOrder(cluster.brokers).map((b, i) => [b.name, x(i)]));
  root.setAttribute('viewBox', `0 0 ${x(cluster.brokers.length)} ${STORE_Y + 60}`);
  const nodes = [];

  // Shared stores: one box under the brokers that mount it, naming the holder.
  const stores = new Map();
  for (const b of cluster.brokers) if (b.store && b.sharesStoreWith.length > 0) stores.set(b.store, [...(stores.get(b.store) ?? []), b]);
  for (const [store, group] of stores) {
    const xs = group.map((b) => at.get(b.name));
    const holder = group.find((b) => b.status?.lock?.held);
    const left = Math.min(...xs);
    const width = Math.max(...xs) - left + BOX.w;
    nodes.push(svg('rect', { x: left, y: STORE_Y, width, height: 50, rx: 10, fill: '#eceff3', stroke: '#5b6b7f', 'data-store': store }));
    nodes.push(svg('text', { x: left + 10, y: STORE_Y + 20 }, `store ${store.replace(/^.*\//, '')}`));
    nodes.push(svg('text', { x: left + 10, y: STORE_Y + 38, 'data-holder': holder?.name ?? '' }, holder ? `lock held by ${holder.name}` : 'lock free'));
    for (const b of group) nodes.push(svg('line', { x1: at.get(b.name) + BOX.w / 2, y1: BOX.top + BOX.h, x2: at.get(b.name) + BOX.w / 2, y2: STORE_Y, stroke: '#5b6b7f', 'stroke-dasharray': '4 3' }));
  }

  // Bridges: an arc from the broker that opened it to the broker it reaches.
  for (const b of cluster.brokers) {
    for (const bridge of b.status?.network?.bridges ?? []) {
      const to = target(cluster, bridge);
      if (!to) continue;
      const x1 = at.get(b.name) + BOX.w / 2;
      const x2 = at.get(to.name) + BOX.w / 2;
      const lift = 18 + Math.abs(x2 - x1) / 8;
      const color = bridge.state === 'up' && !bridge.fault ? '#2e7d32' : '#c62828';
      nodes.push(svg('path', { d: `M ${x1} ${BOX.top} C ${x1} ${BOX.top - lift}, ${x2} ${BOX.top - lift}, ${x2} ${BOX.top}`, fill: 'none', stroke: color, 'stroke-width': 3, 'data-bridge': `${b.name}->${to.name}` }));
      nodes.push(svg('text', { x: (x1 + x2) / 2, y: BOX.top - lift * 0.75 - 6, 'text-anchor': 'middle', fill: color }, `${bridge.state}${bridge.fault ? ` (${bridge.fault.kind})` : ''} · ${rate(b, bridge, now)} msg/s`));
    }
  }

  // Brokers: role, process, queue depth.
  for (const b of cluster.brokers) {
    const left = at.get(b.name);
    const role = roleOf(b);
    const queues = b.status?.queues ?? [];
    const depth = queues.reduce((n, q) => n + q.pending, 0);
    const group = svg('g', { 'data-broker': b.name, 'data-role': role });
    group.append(
      svg('rect', { x: left, y: BOX.top, width: BOX.w, height: BOX.h, rx: 8, fill: '#fff', stroke: ROLE_COLORS[role] ?? '#5b6b7f', 'stroke-width': 3 }),
      svg('text', { x: left + 10, y: BOX.top + 20, 'font-weight': 'bold' }, b.name),
      svg('text', { x: left + 10, y: BOX.top + 38, fill: ROLE_COLORS[role] ?? '#5b6b7f' }, `${role}${b.pid ? ` · pid ${b.pid}` : ''}`),
      svg('text', { x: left + 10, y: BOX.top + 56 }, `${depth} pending in ${queues.length} queues`),
      ...queues.slice().sort((p, q) => q.pending - p.pending).slice(0, 3).map((q, i) => svg('text', { x: left + 10, y: BOX.top + 74 + i * 15, fill: '#5b6b7f' }, `${q.name}: ${q.pending}`)),
    );
    nodes.push(group);
  }
  root.replaceChildren(...nodes);
}

function controls(cluster) {
  const fault = (broker, kind) => action(`${kind} ${broker}`, async () => (await post(`/api/cluster/${kind}`, { broker })).results.join('; '));
  const bridgeFault = (broker, bridge, kind) => action(`${kind} ${bridge}`, async () => (await post('/api/cluster/bridge', { broker, bridge, action: kind, ...delayArgs(kind) })).results.join('; '));
  document.getElementById('controls').replaceChildren(
    table(['broker', 'role', 'STOMP', 'console', 'process faults', 'bridges'], cluster.brokers.map((b) => ({
      attrs: { 'data-broker-row': b.name },
      cells: [b.name, roleOf(b), b.stompUrl, el('a', { href: b.adminUrl, target: '_blank' }, b.adminUrl),
        el('span', {}, [['kill', 'kill -9'], ['freeze', 'freeze'], ['resume', 'resume'], ['restart', 'restart']].map(([k, label]) => el('button', { onclick: fault(b.name, k) }, label))),
        el('span', {}, (b.status?.network?.bridges ?? []).map((x) => el('div', { 'data-bridge-row': x.name }, `${x.name}: `, ['stall', 'delay', 'cut', 'heal'].map((k) => el('button', { onclick: bridgeFault(b.name, x.name, k) }, k)))))],
    })), { id: 'brokers' }),
  );
}

let shownControls = '';

async function refresh() {
  try {
    const cluster = await getJson('/api/status');
    const now = Date.now();
    document.getElementById('cluster-name').textContent = cluster.name;
    document.getElementById('summary').textContent = cluster.description;
    draw(cluster, now);
    // Rebuilt only when something they show changed, so a click is never lost to a refresh.
    const key = JSON.stringify(cluster.brokers.map((b) => [b.name, roleOf(b), (b.status?.network?.bridges ?? []).map((x) => x.name)]));
    if (key !== shownControls) {
      controls(cluster);
      shownControls = key;
    }
    previous = { ...cluster, at: now };
  } catch (err) {
    notice(`Cannot read the cluster: ${err.message}`);
  }
}

void refresh();
setInterval(() => void refresh(), REFRESH_MS);

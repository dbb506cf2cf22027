// Helpers shared by the broker console and the cluster view. Every value from
// a broker goes into the page as text (textContent), never as HTML.

/** el('td', { class: 'num' }, '42') */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) node.append(c instanceof Node ? c : String(c));
  return node;
}

/** A table: header names, then one array of cells per row (a cell is text, a node, or { text, class }). */
export function table(headers, rows, attrs = {}) {
  const cell = (c) => (c && typeof c === 'object' && !(c instanceof Node) ? el('td', { class: c.class }, c.text) : el('td', typeof c === 'number' ? { class: 'num' } : {}, c));
  return el('table', attrs, el('thead', {}, el('tr', {}, headers.map((h) => el('th', {}, h)))), el('tbody', {}, rows.map((r) => el('tr', r.attrs ?? {}, r.cells.map(cell)))));
}

export async function getJson(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ?? res.statusText);
  return body;
}

/** A state-changing call: JSON, same origin (the admin endpoint refuses anything else). */
export async function post(path, args = {}) {
  const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(args) });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ?? res.statusText);
  return body;
}

export function notice(text) {
  const n = document.getElementById('notice');
  n.textContent = text;
  clearTimeout(notice.timer);
  notice.timer = setTimeout(() => (n.textContent = ''), 5000);
}

/** Runs an action from a button, telling the user what came of it. */
export function action(label, run) {
  return async () => {
    try {
      const result = await run();
      notice(typeof result === 'string' ? result : `${label}: done`);
    } catch (err) {
      notice(`${label}: ${err.message}`);
    }
  };
}

export const bytes = (n) => (n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : n < 1073741824 ? `${(n / 1048576).toFixed(1)} MiB` : `${(n / 1073741824).toFixed(1)} GiB`);

/** A bridge delay asks how long; other faults take no argument. */
export function delayArgs(kind) {
  if (kind !== 'delay') return {};
  return { ms: prompt('Delay every frame of the bridge by how many ms?', '500') ?? '500' };
}

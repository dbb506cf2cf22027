import { configError } from '../errors.js';

/**
 * ActiveMQ-style URIs: `stomp://host:port?opt=v`, and composites such as
 * `failover:(stomp://a:1,stomp://b:2)?randomize=false`,
 * `static:(failover:(stomp://a:1,stomp://b:2))?duplex=true`.
 */

export interface SimpleUri {
  kind: 'simple';
  scheme: string;
  host: string;
  port: number;
  path: string;
  params: Record<string, string>;
  text: string;
}

export interface CompositeUri {
  kind: 'composite';
  scheme: string;
  components: string[];
  params: Record<string, string>;
  text: string;
}

export type ParsedUri = SimpleUri | CompositeUri;

const COMPOSITE = /^([a-z][a-z0-9+.-]*):(?:\/\/)?\((.*)\)(?:\?(.*))?$/i;
const COMPOSITE_BARE = /^(failover|static|masterslave):(?:\/\/)?([^()]*?)(?:\?(.*))?$/i;
const SIMPLE = /^([a-z][a-z0-9+.-]*):\/\/(\[[^\]]+\]|[^:/?#]*)(?::(\d+))?([^?#]*)(?:\?(.*))?$/i;

export function parseUri(text: string): ParsedUri {
  const trimmed = text.trim();
  const composite = COMPOSITE.exec(trimmed);
  if (composite) {
    return { kind: 'composite', scheme: composite[1].toLowerCase(), components: splitTopLevel(composite[2], text), params: parseQuery(composite[3], text), text: trimmed };
  }
  const bare = COMPOSITE_BARE.exec(trimmed);
  if (bare && !trimmed.includes('://(')) {
    const components = bare[2].split(',').map((s) => s.trim()).filter(Boolean);
    if (components.length > 0 && components.every((c) => SIMPLE.test(c))) {
      return { kind: 'composite', scheme: bare[1].toLowerCase(), components, params: parseQuery(bare[3], text), text: trimmed };
    }
  }
  const simple = SIMPLE.exec(trimmed);
  if (!simple) throw configError('CONFIG_URI', text, `expected scheme://host:port[?options] or scheme:(uri,...)[?options]`);
  const port = simple[3] === undefined ? -1 : Number(simple[3]);
  if (port > 65535) throw configError('CONFIG_URI', text, `port ${port} is out of range`);
  return {
    kind: 'simple',
    scheme: simple[1].toLowerCase(),
    host: simple[2].replace(/^\[|\]$/g, ''),
    port,
    path: simple[4],
    params: parseQuery(simple[5], text),
    text: trimmed,
  };
}

export function parseSimpleUri(text: string): SimpleUri {
  const uri = parseUri(text);
  if (uri.kind !== 'simple') throw configError('CONFIG_URI', text, `a plain scheme://host:port URI is expected here`);
  return uri;
}

function splitTopLevel(list: string, whole: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(list.slice(start, i).trim());
      start = i + 1;
    }
    if (depth < 0) throw configError('CONFIG_URI', whole, `unbalanced parentheses`);
  }
  if (depth !== 0) throw configError('CONFIG_URI', whole, `unbalanced parentheses`);
  parts.push(list.slice(start).trim());
  const components = parts.filter((p) => p.length > 0);
  if (components.length === 0) throw configError('CONFIG_URI', whole, `no URI inside the parentheses`);
  return components;
}

function parseQuery(query: string | undefined, whole: string): Record<string, string> {
  const params: Record<string, string> = Object.create(null);
  if (!query) return params;
  for (const pair of query.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw configError('CONFIG_URI', whole, `option '${pair}' has no value`);
    params[decodeURIComponent(pair.slice(0, eq))] = decodeURIComponent(pair.slice(eq + 1));
  }
  return params;
}

/** Reads typed options out of URI params, refusing any it does not know (as ActiveMQ's "Invalid connect parameters"). */
export class UriOptions {
  private readonly used = new Set<string>();
  private readonly lowerKeys: Map<string, string>;

  constructor(
    private readonly params: Record<string, string>,
    private readonly uriText: string,
  ) {
    this.lowerKeys = new Map(Object.keys(params).map((k) => [k.toLowerCase(), k]));
  }

  /** Option names are matched without regard to case (`wireformat.` and `wireFormat.` both occur in the wild). */
  private raw(name: string): string | undefined {
    const key = this.lowerKeys.get(name.toLowerCase());
    if (key === undefined) return undefined;
    this.used.add(key);
    return this.params[key];
  }

  number(name: string, fallback: number, { min = -Infinity, max = Infinity } = {}): number {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw configError('CONFIG_URI_OPTION', name, v, this.uriText, Number.isFinite(min) ? `must be a number >= ${min}` : 'must be a number');
    }
    return n;
  }

  boolean(name: string, fallback: boolean): boolean {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if (/^(true|false)$/i.test(v)) return v.toLowerCase() === 'true';
    throw configError('CONFIG_URI_OPTION', name, v, this.uriText, 'must be true or false');
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  has(name: string): boolean {
    return this.lowerKeys.has(name.toLowerCase());
  }

  /** Marks options that are accepted for compatibility but have no effect here. */
  accept(...names: string[]): void {
    for (const n of names) this.raw(n);
  }

  assertAllUsed(): void {
    const unknown = Object.keys(this.params).filter((k) => !this.used.has(k));
    if (unknown.length > 0) {
      throw configError('CONFIG_URI_UNKNOWN_OPTIONS', unknown.map((k) => `${k}=${this.params[k]}`).join(', '), this.uriText);
    }
  }
}

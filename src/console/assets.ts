import { readFileSync } from 'node:fs';

/** The console's pages, scripts and styles: plain files, no build step, nothing from a CDN. */
const DIRECTORY = new URL('./assets/', import.meta.url);

const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

export interface Asset {
  type: string;
  body: Buffer;
}

const cache = new Map<string, Asset>();

/** `/` → the broker console, `/console/<file>` → one of its files; null for anything else. `home`: the page `/` serves. */
export function consoleAsset(path: string, home = 'index.html'): Asset | null {
  const name = path === '/' ? home : /^\/console\/([\w-]+\.(?:html|js|css))$/.exec(path)?.[1];
  if (!name) return null;
  let asset = cache.get(name);
  if (!asset) {
    try {
      asset = { type: TYPES[name.slice(name.lastIndexOf('.') + 1)], body: readFileSync(new URL(name, DIRECTORY)) };
    } catch {
      return null;
    }
    cache.set(name, asset);
  }
  return asset;
}

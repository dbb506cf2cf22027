// tsc compiles TypeScript only: the console's HTML, JS and CSS are copied next to the compiled console.
import { cpSync } from 'node:fs';

cpSync(new URL('../src/console/assets/', import.meta.url), new URL('../dist/src/console/assets/', import.meta.url), { recursive: true });

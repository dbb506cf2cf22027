// tsc writes files without the execute bit: the package's own bin needs it, or `npx amq-sim` in this folder is refused.
import { chmodSync, readFileSync } from 'node:fs';

const root = new URL('../', import.meta.url);
const { bin } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'));
for (const path of Object.values(bin)) chmodSync(new URL(path, root), 0o755);

import { codecError } from './errors.js';

const NEEDS_ESCAPE = /[\\\r\n:]/;

export function escapeHeaderValue(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  // Backslash first, so the escapes added after it are not escaped again.
  let out = value.includes('\\') ? value.replaceAll('\\', '\\\\') : value;
  if (out.includes('\r')) out = out.replaceAll('\r', '\\r');
  if (out.includes('\n')) out = out.replaceAll('\n', '\\n');
  if (out.includes(':')) out = out.replaceAll(':', '\\c');
  return out;
}

/** Undefined escape sequences are a fatal protocol error (STOMP 1.2, "Value Encoding"). */
export function unescapeHeaderValue(value: string): string {
  if (!value.includes('\\')) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c !== '\\') {
      out += c;
      continue;
    }
    const next = value[++i];
    switch (next) {
      case 'r':
        out += '\r';
        break;
      case 'n':
        out += '\n';
        break;
      case 'c':
        out += ':';
        break;
      case '\\':
        out += '\\';
        break;
      default:
        throw codecError('BAD_ESCAPE', next === undefined ? 'Header ends with a lone backslash' : `Undefined escape sequence \\${next} in header`);
    }
  }
  return out;
}

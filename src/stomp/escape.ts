import { StompCodecError } from './errors.js';

const NEEDS_ESCAPE = /[\\\r\n:]/;
const ESCAPES = /[\\\r\n:]/g;
const ESCAPED: Record<string, string> = { '\\': '\\\\', '\r': '\\r', '\n': '\\n', ':': '\\c' };

export function escapeHeaderValue(value: string): string {
  return NEEDS_ESCAPE.test(value) ? value.replace(ESCAPES, (c) => ESCAPED[c]) : value;
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
        throw new StompCodecError(
          'BAD_ESCAPE',
          next === undefined ? 'Header ends with a lone backslash' : `Undefined escape sequence \\${next} in header`,
        );
    }
  }
  return out;
}

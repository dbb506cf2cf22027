/**
 * JMS message selectors (SQL-92 conditional expressions), as ActiveMQ
 * evaluates them for STOMP: identifiers are message headers (plus the JMS
 * header names ActiveMQ maps), and a header's string value is converted when
 * compared with a number or a boolean (ActiveMQ's `convert_string_expressions:`).
 * Evaluation follows SQL's three-valued logic: a comparison with a missing
 * header is unknown, and only true selects.
 */
import { AmqSimError, errorMessage } from '../../errors.js';
import type { BrokerMessage } from './message.js';

export class SelectorError extends AmqSimError {
  override name = 'SelectorError';
  constructor(
    reason: string,
    /** 1-based character position of the problem. */
    readonly position: number,
  ) {
    super('SELECTOR_SYNTAX', errorMessage('SELECTOR_SYNTAX', reason, position));
  }
}

type Value = string | number | boolean | null;

type TokenKind = 'num' | 'str' | 'id' | 'op' | 'kw' | 'eof';
interface Token {
  kind: TokenKind;
  text: string;
  value?: string | number;
  pos: number;
}

const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IN', 'LIKE', 'ESCAPE', 'BETWEEN', 'IS', 'NULL', 'TRUE', 'FALSE']);
const OPERATORS = ['<>', '<=', '>=', '=', '<', '>', '+', '-', '*', '/', '(', ')', ','];

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const pos = i + 1;
    if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new SelectorError('Unterminated string literal', pos);
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i++];
      }
      tokens.push({ kind: 'str', text: value, value, pos });
      continue;
    }
    const num = /^(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)[lLfFdD]?/.exec(text.slice(i));
    if (num && /[\d.]/.test(c)) {
      const raw = num[0].replace(/[lLfFdD]$/, '');
      tokens.push({ kind: 'num', text: num[0], value: raw.startsWith('0x') || raw.startsWith('0X') ? Number.parseInt(raw, 16) : Number(raw), pos });
      i += num[0].length;
      continue;
    }
    // JMS identifiers: letters, digits, '_' and '$' ('-' is subtraction, as in ActiveMQ).
    const id = /^[A-Za-z_$][\w$.]*/.exec(text.slice(i));
    if (id) {
      const word = id[0];
      if (KEYWORDS.has(word.toUpperCase())) tokens.push({ kind: 'kw', text: word.toUpperCase(), pos });
      else tokens.push({ kind: 'id', text: word, pos });
      i += word.length;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (!op) throw new SelectorError(`Unexpected character '${c}'`, pos);
    tokens.push({ kind: 'op', text: op, pos });
    i += op.length;
  }
  tokens.push({ kind: 'eof', text: 'end of selector', pos: text.length + 1 });
  return tokens;
}

type Expr = (m: BrokerMessage) => Value;

/** What an identifier means: a JMS header ActiveMQ maps, or a message header. */
function identifier(name: string): Expr {
  switch (name) {
    case 'JMSPriority':
      return (m) => m.priority;
    case 'JMSTimestamp':
      return (m) => m.timestamp;
    case 'JMSExpiration':
      return (m) => m.expiration;
    case 'JMSMessageID':
      return (m) => m.id;
    case 'JMSDeliveryMode':
      return (m) => (m.persistent ? 'PERSISTENT' : 'NON_PERSISTENT');
    case 'JMSRedelivered':
      return (m) => m.redeliveryCounter > 0;
    case 'JMSXDeliveryCount':
      return (m) => m.redeliveryCounter + 1;
    case 'JMSCorrelationID':
      return (m) => m.headers['correlation-id'] ?? null;
    case 'JMSType':
      return (m) => m.headers.type ?? null;
    case 'JMSReplyTo':
      return (m) => m.headers['reply-to'] ?? null;
    default:
      return (m) => m.headers[name] ?? m.brokerHeaders?.[name] ?? null;
  }
}

function toNumber(v: Value): number | null {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isNaN(n) ? null : n;
  }
  return null;
}

/** ActiveMQ's convert_string_expressions: a string meets a number or a boolean on the other side's terms. */
function compare(a: Value, b: Value): number | null {
  if (a === null || b === null) return null;
  if (typeof a === 'number' || typeof b === 'number') {
    const x = toNumber(a);
    const y = toNumber(b);
    if (x === null || y === null) return null;
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (typeof a === 'boolean' || typeof b === 'boolean') {
    const x = typeof a === 'boolean' ? a : a.toLowerCase() === 'true' ? true : a.toLowerCase() === 'false' ? false : null;
    const y = typeof b === 'boolean' ? b : b.toLowerCase() === 'true' ? true : b.toLowerCase() === 'false' ? false : null;
    if (x === null || y === null) return null;
    return x === y ? 0 : 1;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

function likeMatcher(pattern: string, escape: string | null): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (escape !== null && c === escape && i + 1 < pattern.length) {
      re += pattern[++i].replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    } else if (c === '%') re += '[\\s\\S]*';
    else if (c === '_') re += '[\\s\\S]';
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(re + '$');
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.i];
  }

  private next(): Token {
    return this.tokens[this.i++];
  }

  private accept(kind: TokenKind, text?: string): Token | null {
    const t = this.peek();
    if (t.kind === kind && (text === undefined || t.text === text)) {
      this.i++;
      return t;
    }
    return null;
  }

  private expect(kind: TokenKind, text: string): Token {
    const t = this.accept(kind, text);
    if (!t) throw new SelectorError(`Expected '${text}' but found '${this.peek().text}'`, this.peek().pos);
    return t;
  }

  parse(): Expr {
    const e = this.or();
    const t = this.peek();
    if (t.kind !== 'eof') throw new SelectorError(`Unexpected '${t.text}'`, t.pos);
    return e;
  }

  private or(): Expr {
    let left = this.and();
    while (this.accept('kw', 'OR')) {
      const l = left;
      const r = this.and();
      left = (m) => {
        const a = l(m);
        if (a === true) return true;
        const b = r(m);
        if (b === true) return true;
        return a === null || b === null ? null : false;
      };
    }
    return left;
  }

  private and(): Expr {
    let left = this.not();
    while (this.accept('kw', 'AND')) {
      const l = left;
      const r = this.not();
      left = (m) => {
        const a = l(m);
        if (a === false) return false;
        const b = r(m);
        if (b === false) return false;
        return a === null || b === null ? null : true;
      };
    }
    return left;
  }

  private not(): Expr {
    if (this.accept('kw', 'NOT')) {
      const e = this.not();
      return (m) => {
        const v = e(m);
        return v === null ? null : !v;
      };
    }
    return this.predicate();
  }

  private predicate(): Expr {
    const left = this.sum();
    const t = this.peek();
    if (t.kind === 'op' && ['=', '<>', '<', '>', '<=', '>='].includes(t.text)) {
      this.next();
      const right = this.sum();
      const test = { '=': (c: number) => c === 0, '<>': (c: number) => c !== 0, '<': (c: number) => c < 0, '>': (c: number) => c > 0, '<=': (c: number) => c <= 0, '>=': (c: number) => c >= 0 }[t.text]!;
      return (m) => {
        const c = compare(left(m), right(m));
        return c === null ? null : test(c);
      };
    }
    const negated = this.accept('kw', 'NOT') !== null;
    const negate = (e: Expr): Expr => (negated ? (m) => (e(m) === null ? null : !e(m)) : e);
    if (this.accept('kw', 'BETWEEN')) {
      const low = this.sum();
      this.expect('kw', 'AND');
      const high = this.sum();
      return negate((m) => {
        const v = left(m);
        const a = compare(v, low(m));
        const b = compare(v, high(m));
        return a === null || b === null ? null : a >= 0 && b <= 0;
      });
    }
    if (this.accept('kw', 'IN')) {
      this.expect('op', '(');
      const items: Value[] = [this.literal()];
      while (this.accept('op', ',')) items.push(this.literal());
      this.expect('op', ')');
      return negate((m) => {
        const v = left(m);
        if (v === null) return null;
        return items.some((x) => compare(v, x) === 0);
      });
    }
    if (this.accept('kw', 'LIKE')) {
      const pattern = this.next();
      if (pattern.kind !== 'str') throw new SelectorError('LIKE needs a string pattern', pattern.pos);
      let escape: string | null = null;
      if (this.accept('kw', 'ESCAPE')) {
        const e = this.next();
        if (e.kind !== 'str' || e.text.length !== 1) throw new SelectorError('ESCAPE needs a one-character string', e.pos);
        escape = e.text;
      }
      const re = likeMatcher(pattern.text, escape);
      return negate((m) => {
        const v = left(m);
        return v === null ? null : re.test(String(v));
      });
    }
    if (negated) throw new SelectorError(`Expected BETWEEN, IN or LIKE after NOT but found '${this.peek().text}'`, this.peek().pos);
    if (this.accept('kw', 'IS')) {
      const not = this.accept('kw', 'NOT') !== null;
      this.expect('kw', 'NULL');
      return (m) => (left(m) === null) !== not;
    }
    return left;
  }

  private literal(): Value {
    const t = this.next();
    if (t.kind === 'str' || t.kind === 'num') return t.value!;
    if (t.kind === 'op' && (t.text === '-' || t.text === '+') && this.peek().kind === 'num') {
      const n = this.next().value as number;
      return t.text === '-' ? -n : n;
    }
    if (t.kind === 'kw' && (t.text === 'TRUE' || t.text === 'FALSE')) return t.text === 'TRUE';
    throw new SelectorError(`Expected a literal but found '${t.text}'`, t.pos);
  }

  private sum(): Expr {
    let left = this.product();
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'op' || (t.text !== '+' && t.text !== '-')) return left;
      this.next();
      const l = left;
      const r = this.product();
      left = t.text === '+' ? arithmetic(l, r, (a, b) => a + b) : arithmetic(l, r, (a, b) => a - b);
    }
  }

  private product(): Expr {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      if (t.kind !== 'op' || (t.text !== '*' && t.text !== '/')) return left;
      this.next();
      const l = left;
      const r = this.unary();
      left = t.text === '*' ? arithmetic(l, r, (a, b) => a * b) : arithmetic(l, r, (a, b) => a / b);
    }
  }

  private unary(): Expr {
    if (this.accept('op', '-')) {
      const e = this.unary();
      return (m) => {
        const n = toNumber(e(m));
        return n === null ? null : -n;
      };
    }
    if (this.accept('op', '+')) return this.unary();
    return this.primary();
  }

  private primary(): Expr {
    const t = this.next();
    switch (t.kind) {
      case 'num':
      case 'str': {
        const v = t.value!;
        return () => v;
      }
      case 'id':
        return identifier(t.text);
      case 'kw':
        if (t.text === 'TRUE' || t.text === 'FALSE') {
          const v = t.text === 'TRUE';
          return () => v;
        }
        if (t.text === 'NULL') return () => null;
        break;
      case 'op':
        if (t.text === '(') {
          const e = this.or();
          this.expect('op', ')');
          return e;
        }
        break;
      case 'eof':
        throw new SelectorError('Unexpected end of selector', t.pos);
    }
    throw new SelectorError(`Unexpected '${t.text}'`, t.pos);
  }
}

function arithmetic(l: Expr, r: Expr, op: (a: number, b: number) => number): Expr {
  return (m) => {
    const a = toNumber(l(m));
    const b = toNumber(r(m));
    return a === null || b === null ? null : op(a, b);
  };
}

/** Compiles a selector; throws SelectorError naming the position of a problem. */
export function compileSelector(text: string): (m: BrokerMessage) => boolean {
  const e = new Parser(tokenize(text)).parse();
  return (m) => e(m) === true;
}

/**
 * Checks plain data (a config file, JSON from another broker) against a
 * shape: known keys, types, allowed values. Config files are checked as
 * partial (every key optional); other data in full (keys ending in `?` may
 * be absent).
 */
import { parseSize } from './size.js';

/** `size`: bytes as a number or as ActiveMQ writes them (`64 mb`). */
type Kind = 'string' | 'number' | 'boolean' | 'string[]' | 'string|null' | 'size';
/** A value is a kind, one of some strings, an object of a shape, or (a one-element tuple) a list of objects of a shape. */
export type Shape = { [key: string]: Kind | readonly string[] | Shape | readonly [Shape] };

export interface ShapeErrors {
  unknownKey(where: string, known: string): Error;
  badValue(where: string, expected: string, actual: string): Error;
}

function describe(kind: Kind): string {
  switch (kind) {
    case 'string[]':
      return 'a list of strings';
    case 'string|null':
      return 'a string or null';
    case 'size':
      return "a size (bytes, or text such as '64 mb')";
    default:
      return `a ${kind}`;
  }
}

function fits(kind: Kind, value: unknown): boolean {
  switch (kind) {
    case 'string[]':
      return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'string|null':
      return value === null || typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'size':
      return parseSize(value) !== undefined;
    default:
      return typeof value === kind;
  }
}

export function checkShape(input: unknown, shape: Shape, errors: ShapeErrors, o: { partial: boolean; path?: string; what: string }): void {
  const path = o.path ?? '';
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw errors.badValue(path || o.what, 'an object', JSON.stringify(input));
  const keys = new Map(Object.keys(shape).map((k) => [k.replace(/\?$/, ''), k]));
  for (const [key, value] of Object.entries(input)) {
    const where = path ? `${path}.${key}` : key;
    const declared = keys.get(key);
    if (declared === undefined) throw errors.unknownKey(where, [...keys.keys()].join(', '));
    const expected = shape[declared];
    if (value === undefined && declared.endsWith('?')) continue;
    if (Array.isArray(expected) && typeof expected[0] === 'object') {
      if (!Array.isArray(value)) throw errors.badValue(where, 'a list', JSON.stringify(value));
      value.forEach((item, i) => checkShape(item, expected[0] as Shape, errors, { ...o, path: `${where}[${i}]` }));
    } else if (Array.isArray(expected)) {
      if (!expected.includes(value as string)) throw errors.badValue(where, `one of ${expected.join(', ')}`, JSON.stringify(value));
    } else if (typeof expected === 'object') {
      checkShape(value, expected as Shape, errors, { ...o, path: where });
    } else if (!fits(expected as Kind, value)) {
      throw errors.badValue(where, describe(expected as Kind), JSON.stringify(value));
    }
  }
  if (o.partial) return;
  for (const [key, declared] of keys) {
    if (!declared.endsWith('?') && !(key in input)) throw errors.badValue(path ? `${path}.${key}` : key, 'present', 'missing');
  }
}

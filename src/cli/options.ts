import type { Options } from 'yargs';
import { parseSize } from '../config/size.js';

interface NumberRules {
  min?: number;
  max?: number;
  integer?: boolean;
}

/**
 * A numeric option whose bad value is a usage error (exit 2) that quotes what
 * was given: yargs' own `type: 'number'` turns `abc` into NaN and lets it through.
 */
export function numberOption(name: string, describe: string, rules: NumberRules & { default?: number; alias?: string } = {}): Options {
  const { min = -Infinity, max = Infinity, integer = false } = rules;
  const kind = integer ? 'a whole number' : 'a number';
  const range = Number.isFinite(min) && Number.isFinite(max) ? ` between ${min} and ${max}` : Number.isFinite(min) ? ` ≥ ${min}` : Number.isFinite(max) ? ` ≤ ${max}` : '';
  const expected = kind + range;
  return {
    describe,
    default: rules.default,
    alias: rules.alias,
    requiresArg: true,
    coerce: (raw: unknown) => {
      if (raw === undefined) return undefined;
      const n = typeof raw === 'number' ? raw : Number(raw);
      if (typeof raw === 'string' && raw.trim() === '') throw new Error(`--${name} must be ${expected}, not an empty value`);
      if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) throw new Error(`--${name} must be ${expected}, not '${String(raw)}'`);
      return n;
    },
  };
}

/** A size option (`64mb`, `1 gb`, bytes): a bad one is a usage error quoting what was given. */
export function sizeOption(name: string, describe: string): Options {
  return {
    describe,
    type: 'string',
    requiresArg: true,
    coerce: (raw: unknown) => {
      if (raw === undefined) return undefined;
      const bytes = parseSize(raw);
      if (bytes === undefined) throw new Error(`--${name} must be a size such as 64mb or 1gb, not '${String(raw)}'`);
      return bytes;
    },
  };
}

/** A port option (1-65535). */
export const portOption = (name: string, describe: string, defaultPort?: number): Options => numberOption(name, describe, { min: 1, max: 65_535, integer: true, default: defaultPort });

/** `describe` with the default it will use, taken from the component's defaults object. */
export function withDefault(describe: string, value: unknown): string {
  return `${describe} [default: ${typeof value === 'string' ? value : JSON.stringify(value)}]`;
}

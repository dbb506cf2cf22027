import { randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

/**
 * Passwords in a config or properties file may be written hashed:
 * `scrypt:<salt, base64>:<hash, base64>` (scrypt, N=16384, r=8, p=1, 32
 * bytes), as `amq-sim hash-password` prints them. Anything else is a plain
 * password.
 */
const PREFIX = 'scrypt:';
const KEY_LENGTH = 32;
const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

export function hashPassword(password: string, salt = randomBytes(16)): string {
  return `${PREFIX}${salt.toString('base64')}:${scryptSync(password, salt, KEY_LENGTH).toString('base64')}`;
}

export function isHashed(stored: string): boolean {
  return stored.startsWith(PREFIX);
}

/**
 * Whether `given` is the password `stored` stands for. A hash is checked on
 * libuv's thread pool: tens of milliseconds a try, which must not stop the
 * broker.
 */
export async function verifyPassword(stored: string, given: string): Promise<boolean> {
  if (!isHashed(stored)) return sameSecret(stored, given);
  const [salt, hash] = stored.slice(PREFIX.length).split(':');
  if (salt === undefined || hash === undefined) return false;
  return equal(Buffer.from(hash, 'base64'), await scryptAsync(given, Buffer.from(salt, 'base64'), KEY_LENGTH));
}

/** Compares two plain secrets in constant time for equal lengths. */
export function sameSecret(a: string, b: string): boolean {
  return equal(Buffer.from(a), Buffer.from(b));
}

function equal(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

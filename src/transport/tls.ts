import { readFileSync } from 'node:fs';
import type { TlsFiles } from '../config/security.js';
import { configError } from '../errors.js';

/** The files' contents, as Node's tls options take them. */
export interface TlsMaterial {
  key?: Buffer;
  cert?: Buffer;
  ca?: Buffer;
}

/** Reads the files named; an unreadable one is a config error naming it. */
export function readTlsFiles(files: TlsFiles, what = 'sslContext'): TlsMaterial {
  const read = (path: string | null, key: keyof TlsFiles): Buffer | undefined => {
    if (path === null) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      throw configError('CONFIG_BAD_VALUE', `${what}.${key}`, 'a readable PEM file', `${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  };
  const material: TlsMaterial = {};
  const key = read(files.keyFile, 'keyFile');
  const cert = read(files.certFile, 'certFile');
  const ca = read(files.caFile, 'caFile');
  if (key) material.key = key;
  if (cert) material.cert = cert;
  if (ca) material.ca = ca;
  return material;
}

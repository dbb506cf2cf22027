/** A STOMP frame as it travels on the wire: command, headers, body. */

export type StompVersion = '1.0' | '1.1' | '1.2';

export const SUPPORTED_VERSIONS: readonly StompVersion[] = ['1.0', '1.1', '1.2'];

/**
 * Header map. Created without a prototype so that header names such as
 * `__proto__` or `constructor` are plain keys.
 */
export type Headers = Record<string, string>;

export interface Frame {
  command: string;
  headers: Headers;
  body: Buffer;
}

export function createHeaders(init?: Record<string, string | number | boolean | undefined>): Headers {
  const headers: Headers = Object.create(null);
  if (init) {
    for (const key of Object.keys(init)) {
      const value = init[key];
      if (value !== undefined) headers[key] = String(value);
    }
  }
  return headers;
}

/** CONNECT, STOMP and CONNECTED are never escaped (STOMP 1.1 and 1.2 spec, "Value Encoding"). */
export function usesHeaderEscaping(command: string, version: StompVersion): boolean {
  return version !== '1.0' && command !== 'CONNECT' && command !== 'CONNECTED' && command !== 'STOMP';
}

import { escapeHeaderValue } from './escape.js';
import { type Frame, type StompVersion, usesHeaderEscaping } from './frame.js';

export interface EncodeOptions {
  /** Write a `content-length` computed from the body in place of any given one (default true). */
  contentLength?: boolean;
}

/** Serialises one frame: command, headers (escaped as `version` requires), blank line, body, NUL. */
export function encodeFrame(frame: Frame, version: StompVersion, options: EncodeOptions = {}): Buffer {
  const withLength = options.contentLength ?? true;
  const escape = usesHeaderEscaping(frame.command, version);
  let head = frame.command + '\n';
  for (const name in frame.headers) {
    if (withLength && name === 'content-length') continue;
    const value = frame.headers[name];
    head += escape ? `${escapeHeaderValue(name)}:${escapeHeaderValue(value)}\n` : `${name}:${value}\n`;
  }
  if (withLength) head += `content-length:${frame.body.length}\n`;
  head += '\n';
  return withHeadAndBody(head, frame.body);
}

/**
 * What ends every frame: the NUL, and an EOL after it, as ActiveMQ writes
 * frames (the spec allows EOLs after a frame). Some clients need the EOL:
 * PHP's pecl stomp reads no second frame out of one TCP read without it.
 */
export const FRAME_END: Buffer = Buffer.from([0, 0x0a]);

/** `head` (already terminated by its blank line) + body + FRAME_END in one buffer. */
export function withHeadAndBody(head: string, body: Buffer): Buffer {
  const headLength = Buffer.byteLength(head);
  const out = Buffer.allocUnsafe(headLength + body.length + FRAME_END.length);
  out.write(head, 0, 'utf8');
  body.copy(out, headLength);
  FRAME_END.copy(out, headLength + body.length);
  return out;
}

/** A heart-beat: a lone end-of-line. */
export const HEART_BEAT: Buffer = Buffer.from('\n');

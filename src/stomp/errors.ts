import { type ErrorArgs, errorMessage, ProtocolError } from '../errors.js';

/** The codes of the codec's errors: which rule of the STOMP frame format the input broke. */
export type StompCodecErrorCode = 'FRAME_TOO_LARGE' | 'TOO_MANY_HEADERS' | 'HEADER_TOO_LONG' | 'MALFORMED_HEADER' | 'BAD_ESCAPE' | 'BAD_CONTENT_LENGTH' | 'MISSING_NUL' | 'EMPTY_COMMAND';

/** The only errors the codec throws: malformed input from the peer. */
export class StompCodecError extends ProtocolError {
  override name = 'StompCodecError';
  declare readonly code: StompCodecErrorCode;
}

export function codecError<C extends StompCodecErrorCode>(code: C, ...args: ErrorArgs<C>): StompCodecError {
  return new StompCodecError(code, errorMessage(code, ...args));
}

/** The only errors the codec throws. `code` says which rule the input broke. */
export type StompCodecErrorCode =
  | 'FRAME_TOO_LARGE'
  | 'TOO_MANY_HEADERS'
  | 'HEADER_TOO_LONG'
  | 'MALFORMED_HEADER'
  | 'BAD_ESCAPE'
  | 'BAD_CONTENT_LENGTH'
  | 'MISSING_NUL'
  | 'EMPTY_COMMAND';

export class StompCodecError extends Error {
  override readonly name = 'StompCodecError';
  constructor(
    readonly code: StompCodecErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Stable error codes. Callers and tests match on `err.code`, never on the message
 * (the habit of websockets/ws `createError` and hono's error codes).
 */
export const ErrorCode = {
  BAD_FRAME: 'APFSDS_ERR_BAD_FRAME',
  FRAME_TOO_LARGE: 'APFSDS_ERR_FRAME_TOO_LARGE',
  BUFFER_LIMIT: 'APFSDS_ERR_BUFFER_LIMIT',
  TRUNCATED: 'APFSDS_ERR_TRUNCATED',
  BAD_KEY: 'APFSDS_ERR_BAD_KEY',
  DECRYPT_FAILED: 'APFSDS_ERR_DECRYPT_FAILED',
  NONCE_EXHAUSTED: 'APFSDS_ERR_NONCE_EXHAUSTED',
  HANDSHAKE: 'APFSDS_ERR_HANDSHAKE',
  REPLAY: 'APFSDS_ERR_REPLAY',
  BAD_CONFIG: 'APFSDS_ERR_BAD_CONFIG',
  FLOW_CONTROL: 'APFSDS_ERR_FLOW_CONTROL',
  PROTOCOL: 'APFSDS_ERR_PROTOCOL',
  CLOSED: 'APFSDS_ERR_CLOSED',
  TIMEOUT: 'APFSDS_ERR_TIMEOUT',
  POLICY: 'APFSDS_ERR_POLICY',
  STORAGE_CORRUPT: 'APFSDS_ERR_STORAGE_CORRUPT',
  NOT_LEADER: 'APFSDS_ERR_NOT_LEADER',
  UNKNOWN_FRAME_TYPE: 'APFSDS_ERR_UNKNOWN_FRAME_TYPE',
  BAD_ADDRESS: 'APFSDS_ERR_BAD_ADDRESS',
  AUTH_FAILED: 'APFSDS_ERR_AUTH_FAILED',
  UNSUPPORTED: 'APFSDS_ERR_UNSUPPORTED',
  PROPOSAL_DROPPED: 'APFSDS_ERR_PROPOSAL_DROPPED',
  CONF_CHANGE_REJECTED: 'APFSDS_ERR_CONF_CHANGE_REJECTED',
  TRANSFER_REJECTED: 'APFSDS_ERR_TRANSFER_REJECTED',
  TLS_VERIFY: 'APFSDS_ERR_TLS_VERIFY',
  CONNECT_FAILED: 'APFSDS_ERR_CONNECT_FAILED',
  UPGRADE_FAILED: 'APFSDS_ERR_UPGRADE_FAILED',
  DNS_FAILED: 'APFSDS_ERR_DNS_FAILED',
  ABORTED: 'APFSDS_ERR_ABORTED',
  STORAGE_FAILED: 'APFSDS_ERR_STORAGE_FAILED',
  STORAGE_BAD_INDEX: 'APFSDS_ERR_STORAGE_BAD_INDEX',
  OPEN_FAILED: 'APFSDS_ERR_OPEN_FAILED',
  STREAM_RESET: 'APFSDS_ERR_STREAM_RESET',
  STREAM_LIMIT: 'APFSDS_ERR_STREAM_LIMIT',
  GOING_AWAY: 'APFSDS_ERR_GOING_AWAY',
  REFUSED: 'APFSDS_ERR_REFUSED',
  BAD_METRIC: 'APFSDS_ERR_BAD_METRIC',
  BAD_COMMAND: 'APFSDS_ERR_BAD_COMMAND',
  NOT_FOUND: 'APFSDS_ERR_NOT_FOUND',
  ALREADY_EXISTS: 'APFSDS_ERR_ALREADY_EXISTS',
  KEY_REVOKED: 'APFSDS_ERR_KEY_REVOKED',
  STATE_LIMIT: 'APFSDS_ERR_STATE_LIMIT',
  BAD_SNAPSHOT: 'APFSDS_ERR_BAD_SNAPSHOT',
  BAD_REQUEST: 'APFSDS_ERR_BAD_REQUEST',
  INTERNAL: 'APFSDS_ERR_INTERNAL',
} as const;

export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** An Error carrying a stable `code`. */
export type CodedError<E extends Error = Error> = E & { code: ErrorCodeValue };

type ErrorCtor = new (message: string, options?: { cause?: unknown }) => Error;

/**
 * Builds a built-in error (TypeError, RangeError, SyntaxError, Error) carrying a stable code.
 * Messages are sentence case and say what was wrong and what was expected.
 */
export function codedError<C extends ErrorCtor>(
  Ctor: C,
  code: ErrorCodeValue,
  message: string,
  cause?: unknown,
): CodedError<InstanceType<C>> {
  const err = (cause === undefined ? new Ctor(message) : new Ctor(message, { cause })) as CodedError<
    InstanceType<C>
  >;
  err.code = code;
  return err;
}

/** True when `err` is an Error carrying the given code. */
export function hasCode(err: unknown, code: ErrorCodeValue): err is CodedError {
  return err instanceof Error && (err as { code?: unknown }).code === code;
}

/**
 * The coded errors a mux hands its callers. Beyond `code` (shared/errors.ts) they carry the
 * wire value that explains them: `reason` (an OPEN_FAIL reason) or `closeCode` (the RESET or
 * GOAWAY code), and `remote` (true when the peer sent it). Callers branch on these, e.g. a
 * handler retries an OPEN on another exit when `isRetryableOpenFail(err.reason)`.
 */
import { codedError, ErrorCode, type CodedError, type ErrorCodeValue } from '../errors.ts';
import type { CloseCodeValue, OpenFailReasonValue } from '../protocol/codes.ts';

/** An OPEN answered with OPEN_FAIL (code OPEN_FAILED). */
export type OpenFailedError = CodedError & { reason: OpenFailReasonValue; remote: boolean };

/** A stream or session ended by a RESET or GOAWAY code (codes STREAM_RESET, PROTOCOL, FLOW_CONTROL, CLOSED, ...). */
export type StreamClosedError = CodedError & { closeCode: CloseCodeValue; remote: boolean };

/** Builds the error an opener sees when its OPEN was refused. */
export function openFailedError(reason: OpenFailReasonValue, remote: boolean): OpenFailedError {
  const err = codedError(Error, ErrorCode.OPEN_FAILED, `Stream open was refused with reason 0x${reason.toString(16)}`);
  return Object.assign(err, { reason, remote });
}

/** Builds an error that carries a RESET/GOAWAY close code. */
export function closedError(
  code: ErrorCodeValue,
  closeCode: CloseCodeValue,
  remote: boolean,
  message: string,
  cause?: unknown,
): StreamClosedError {
  const err = codedError(Error, code, message, cause);
  return Object.assign(err, { closeCode, remote });
}

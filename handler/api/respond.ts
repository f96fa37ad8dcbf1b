/**
 * JSON error answers of the API and the mapping from stable error codes to HTTP statuses.
 * Every error body is `{ "error": { "code", "message", "field"? } }`; unexpected failures
 * answer a bare 500 so no internal detail reaches the client.
 */
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import { ErrorCode, type ErrorCodeValue } from '../../shared/errors.ts';
import type { ApplyError, ApplyResult } from '../state/types.ts';

/** The error part of a JSON error answer. */
export type ErrorBody = { error: { code: ErrorCodeValue; message: string; field?: string } };

/** Thrown by handlers to answer with a JSON error; caught by the app's error handler. */
export class ApiError extends Error {
  readonly status: ContentfulStatusCode;
  readonly code: ErrorCodeValue;
  readonly field: string | undefined;

  constructor(status: ContentfulStatusCode, code: ErrorCodeValue, message: string, field?: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
  }

  /** The JSON body. */
  body(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.field === undefined ? {} : { field: this.field }) } };
  }
}

const STATUS_OF_CODE: Partial<Record<ErrorCodeValue, ContentfulStatusCode>> = {
  [ErrorCode.BAD_COMMAND]: 400,
  [ErrorCode.BAD_REQUEST]: 400,
  [ErrorCode.UNSUPPORTED]: 400,
  [ErrorCode.NOT_FOUND]: 404,
  [ErrorCode.ALREADY_EXISTS]: 409,
  [ErrorCode.KEY_REVOKED]: 409,
  [ErrorCode.STATE_LIMIT]: 409,
  [ErrorCode.CONF_CHANGE_REJECTED]: 409,
  [ErrorCode.TRANSFER_REJECTED]: 409,
  [ErrorCode.NOT_LEADER]: 503,
  [ErrorCode.PROPOSAL_DROPPED]: 503,
  [ErrorCode.TIMEOUT]: 503,
  [ErrorCode.ABORTED]: 503,
};

/** HTTP status for a stable error code (500 for codes that mean a bug). */
export function statusOf(code: ErrorCodeValue): ContentfulStatusCode {
  return STATUS_OF_CODE[code] ?? 500;
}

/** An ApiError for an apply error the state machine reported. */
export function fromApplyError(e: ApplyError): ApiError {
  const status = statusOf(e.code);
  // An INTERNAL apply error is a bug; its message stays in the log, not in the answer.
  const message = status === 500 ? 'Internal error' : e.message;
  return new ApiError(status, e.code, message, e.field);
}

/** Unwraps a successful apply result or throws the matching ApiError. */
export function expectApplied(r: ApplyResult): void {
  if (!r.ok) throw fromApplyError(r.error);
}

/** A 400 naming the first invalid field of a zod error (`prefix` for query parameters). */
export function fromZodError(error: z.ZodError, where: 'body' | 'query' = 'body'): ApiError {
  const issue = error.issues[0];
  const path = issue?.path.map(String) ?? [];
  if (issue?.code === 'unrecognized_keys' && issue.keys[0] !== undefined) path.push(issue.keys[0]);
  const field = path.join('.');
  const what = issue?.code === 'unrecognized_keys' ? 'is not a known field' : (issue?.message ?? 'is invalid');
  const label = field === '' ? (where === 'body' ? 'Request body' : 'Query') : `Field ${field}`;
  return new ApiError(400, ErrorCode.BAD_REQUEST, `${label}: ${what}`, field === '' ? undefined : field);
}

/** Answers an ApiError as JSON. */
export function sendError(c: Context, err: ApiError): Response {
  c.header('Cache-Control', 'no-store');
  return c.json(err.body(), err.status);
}

/**
 * Bearer-token check for the admin API (ARCHITECTURE 7; RFC 6750 section 2.1). Both the
 * presented and the expected token are hashed with SHA-256 before a constant-time compare, so
 * neither the position of the first differing byte nor the token's length shows in the
 * timing (the approach of hono's bearerAuth and Go's subtle.ConstantTimeCompare on digests).
 * Every failure gets the same 401, and the comparison runs even without a header.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import type { MiddlewareHandler } from 'hono';
import { ErrorCode, codedError } from '../../shared/errors.ts';
import { constantTimeEqual } from '../../shared/crypto/bytes.ts';

const encoder = new TextEncoder();

// The digests always have equal length, so the plain constant-time compare fits.
export { constantTimeEqual };

/** Options of the bearer middleware. */
export type BearerOptions = {
  readonly token: string;
  /** The digest comparison; default constantTimeEqual. */
  readonly equals?: (a: Uint8Array, b: Uint8Array) => boolean;
};

// RFC 6750 section 2.1: credentials = "Bearer" 1*SP b64token; the scheme is case-insensitive.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The body of every 401, identical for a missing, malformed or wrong token. */
export const UNAUTHORIZED_BODY = { error: { code: ErrorCode.AUTH_FAILED, message: 'Unauthorized' } } as const;

/** Middleware refusing requests without the right bearer token. */
export function bearerAuth(options: BearerOptions): MiddlewareHandler {
  if (options.token.length === 0) throw codedError(RangeError, ErrorCode.BAD_CONFIG, 'Admin token (admin.token) must not be empty');
  const expected = sha256(encoder.encode(options.token));
  const equals = options.equals ?? constantTimeEqual;
  return async (c, next) => {
    const match = BEARER.exec(c.req.header('authorization') ?? '');
    const presented = sha256(encoder.encode(match?.[1] ?? ''));
    const ok = equals(presented, expected) && match !== null;
    if (!ok) {
      c.header('WWW-Authenticate', 'Bearer realm="apfsds-admin"');
      c.header('Cache-Control', 'no-store');
      return c.json(UNAUTHORIZED_BODY, 401);
    }
    await next();
  };
}

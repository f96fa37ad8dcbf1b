/**
 * Byte helpers for secrets (the habits of noble-ciphers `src/utils.ts`): constant-time
 * comparison, wiping, and the key-length check both crypto backends apply.
 */
import { ErrorCode, codedError } from '../errors.ts';
import { KEY_LENGTH } from './types.ts';

/**
 * True when `a` and `b` hold the same bytes. Runs in time that depends only on the lengths, so
 * comparing a secret (a bearer token, a MAC) leaks nothing about where it differs.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Overwrites each array with zeros (keys we no longer need; Noise spec section 14). */
export function wipe(...arrays: (Uint8Array | null | undefined)[]): void {
  for (const a of arrays) a?.fill(0);
}

/** Throws BAD_KEY unless `bytes` is a 32-byte key (`what` names it in the message). */
export function checkKeyLength(bytes: Uint8Array, what: string): void {
  if (!(bytes instanceof Uint8Array) || bytes.length !== KEY_LENGTH) {
    throw codedError(RangeError, ErrorCode.BAD_KEY, `The ${what} has the wrong length: expected ${KEY_LENGTH} bytes`);
  }
}

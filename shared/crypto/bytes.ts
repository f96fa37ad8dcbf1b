/**
 * Byte helpers for secrets (the habits of noble-ciphers `src/utils.ts`): constant-time
 * comparison, wiping, and the argument checks every crypto backend applies, so a bad key,
 * nonce or output gets the same error from each.
 */
import { ErrorCode, codedError } from '../errors.ts';
import { KEY_LENGTH, NONCE_LENGTH } from './types.ts';

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

/** Throws BAD_KEY unless `key` is 32 bytes and `nonce` 12 (ChaCha20-Poly1305, RFC 8439). */
export function checkAeadInputs(key: Uint8Array, nonce: Uint8Array): void {
  checkKeyLength(key, 'ChaCha20-Poly1305 key');
  if (!(nonce instanceof Uint8Array) || nonce.length !== NONCE_LENGTH) {
    throw codedError(RangeError, ErrorCode.BAD_KEY, `The ChaCha20-Poly1305 nonce has the wrong length: expected ${NONCE_LENGTH} bytes`);
  }
}

/** Throws BUFFER_LIMIT unless `out` holds `n` bytes from the integer `offset`. */
export function checkRoom(out: Uint8Array, offset: number, n: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + n > out.length) {
    throw codedError(RangeError, ErrorCode.BUFFER_LIMIT, `The output has no room: expected ${n} bytes from offset ${offset}`);
  }
}

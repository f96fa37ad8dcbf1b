/**
 * Byte helpers for secrets (the habits of noble-ciphers `src/utils.ts`): constant-time
 * comparison and wiping.
 */

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

/**
 * Little-endian helpers for the storage formats. Raft indexes and terms are JS numbers, so
 * 64-bit fields are written as two u32 halves and read back only if they are safe integers
 * (a larger value on disk can only be corruption).
 */

const TWO_32 = 0x1_0000_0000;

/** Writes a non-negative safe integer as u64le. */
export function setU64(view: DataView, offset: number, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`Value ${value} cannot be stored as u64: expected a non-negative safe integer`);
  }
  view.setUint32(offset, value >>> 0, true);
  view.setUint32(offset + 4, Math.floor(value / TWO_32), true);
}

/** Reads a u64le; throws RangeError when it exceeds Number.MAX_SAFE_INTEGER. */
export function getU64(view: DataView, offset: number): number {
  const lo = view.getUint32(offset, true);
  const hi = view.getUint32(offset + 4, true);
  if (hi > 0x1f_ffff) throw new RangeError(`u64 at byte ${offset} exceeds 2^53: expected a safe integer`);
  return hi * TWO_32 + lo;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 bytes of a string. */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Decodes UTF-8, throwing TypeError on invalid sequences. */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

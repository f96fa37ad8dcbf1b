/**
 * Big-endian integer access on a Uint8Array by index. The frame codec reads through these
 * instead of a DataView so a frame decoded out of any subarray costs no extra object, and no
 * code path ever looks at `.buffer` (Node pools small Buffers into one shared ArrayBuffer).
 * Callers check bounds first; these do not.
 */

/** Reads a u16 (network order) at `o`. */
export function readU16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

/** Reads a u32 (network order) at `o`. */
export function readU32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** Writes a u16 (network order) at `o`. */
export function writeU16(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 8;
  b[o + 1] = v;
}

/** Writes a u32 (network order) at `o`. */
export function writeU32(b: Uint8Array, o: number, v: number): void {
  b[o] = v >>> 24;
  b[o + 1] = v >>> 16;
  b[o + 2] = v >>> 8;
  b[o + 3] = v;
}

/** True when `n` is an integer in [0, 2^32). */
export function isU32(n: number): boolean {
  return n >>> 0 === n;
}

/** Lowercase hex of `b`, for messages and tests. */
export function toHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += b[i]!.toString(16).padStart(2, '0');
  return s;
}

/** Bytes of a hex string (whitespace ignored); throws on odd length or a non-hex digit. */
export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, '');
  if (clean.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(clean)) {
    throw new SyntaxError(`Hex string must have an even number of hex digits, got "${hex}"`);
  }
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

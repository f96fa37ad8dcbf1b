/**
 * base64url without padding (RFC 4648 section 5), the text form of keys. Pure over Uint8Array.
 * The decoder is strict: it refuses padding, characters outside the url-safe alphabet, an
 * impossible length, and non-zero trailing bits, so every byte string has exactly one encoding.
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const DECODE = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

/** Encodes bytes as unpadded base64url. */
export function encodeBase64url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 3 <= bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]!;
  }
  return out;
}

/** Why a base64url string was refused (keys.ts turns it into a BAD_KEY error). */
export type Base64urlProblem =
  | { kind: 'length'; length: number }
  | { kind: 'alphabet'; index: number; char: string }
  | { kind: 'trailing-bits' };

/** Decodes unpadded base64url, or returns what was wrong with it. Never throws. */
export function tryDecodeBase64url(text: string): Uint8Array | Base64urlProblem {
  const rest = text.length % 4;
  if (rest === 1) return { kind: 'length', length: text.length };
  const out = new Uint8Array(((text.length >> 2) * 3) + (rest === 0 ? 0 : rest - 1));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const v = code < 128 ? DECODE[code]! : -1;
    if (v < 0) return { kind: 'alphabet', index: i, char: text[i]! };
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  // RFC 4648 section 3.5: the unused low bits of the last character must be zero (canonical).
  if (bits > 0 && (acc & ((1 << bits) - 1)) !== 0) return { kind: 'trailing-bits' };
  return out;
}

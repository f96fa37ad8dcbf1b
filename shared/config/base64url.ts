/**
 * base64url for key material in config files: the one strict codec of shared/crypto, plus the
 * config's one leniency, correctly padded text ("...=") as some tools write it. Decoding still
 * refuses non-canonical trailing bits, so one key has one spelling (RFC 4648 section 3.5).
 */
import { encodeBase64url, tryDecodeBase64url } from '../crypto/base64url.ts';

/** Encodes bytes as unpadded base64url. */
export const encodeBase64Url: (bytes: Uint8Array) => string = encodeBase64url;

/**
 * Decodes unpadded (or correctly padded) base64url. Returns undefined for any character
 * outside the alphabet, an impossible length, or non-zero trailing bits.
 */
export function decodeBase64Url(text: string): Uint8Array | undefined {
  let s = text;
  if (s.length % 4 === 0 && s.endsWith('=')) s = s.endsWith('==') ? s.slice(0, -2) : s.slice(0, -1);
  const bytes = tryDecodeBase64url(s);
  return bytes instanceof Uint8Array ? bytes : undefined;
}

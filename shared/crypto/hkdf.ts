/**
 * Noise's HKDF (Noise spec rev 34, section 4.3) built from a backend's HMAC: RFC 5869 HKDF with
 * the chaining key as salt, empty info and two or three HASHLEN outputs. A backend with a
 * cheaper route (native-crypto.ts shares the temporary key's pads across its HMACs) gives its
 * own NoiseHash.hkdf; both must return the same bytes.
 */
import { wipe } from './bytes.ts';

const BYTE_1 = new Uint8Array([1]);
const BYTE_2 = new Uint8Array([2]);
const BYTE_3 = new Uint8Array([3]);

/** An HMAC function of the NoiseHash shape: HMAC-HASH(key, a || b). */
export type HmacFunction = (key: Uint8Array, a: Uint8Array, b?: Uint8Array) => Uint8Array;

/** HKDF(chaining_key, input_key_material, num_outputs) through `hmac`; the temporary key is wiped. */
export function hkdfFromHmac(hmac: HmacFunction, chainingKey: Uint8Array, ikm: Uint8Array, outputs: 2 | 3): Uint8Array[] {
  const temp = hmac(chainingKey, ikm);
  const o1 = hmac(temp, BYTE_1);
  const o2 = hmac(temp, o1, BYTE_2);
  const result = [o1, o2];
  if (outputs === 3) result.push(hmac(temp, o2, BYTE_3));
  wipe(temp);
  return result;
}

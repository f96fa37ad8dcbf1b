/** Shared helpers of the crypto tests: hex, a seeded PRNG, and the backends to run against. */
import { nobleBackend } from '../../../shared/crypto/noble-backend.ts';
import { nativeCryptoVariants } from '../../../shared/runtime/native-crypto.ts';
import type { CryptoBackend } from '../../../shared/crypto/types.ts';
import { Prng } from '../../support/prng.ts';

/** Bytes from a hex string. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/[^0-9a-f]/gi, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Lower-case hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** A deterministic byte source (test/support/prng.ts), so "random" inputs are the same every run. */
export function seededBytes(seed: number): (n: number) => Uint8Array {
  const prng = new Prng(seed);
  return (n) => prng.bytes(n);
}

/**
 * Every backend this runtime can build, noble last: native with libsodium, native on
 * node:crypto alone (the fallback where the addon does not load), and noble.
 */
export const backends: CryptoBackend[] = [...nativeCryptoVariants(), nobleBackend];

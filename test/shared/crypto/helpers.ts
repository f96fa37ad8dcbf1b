/** Shared helpers of the crypto tests: hex, a seeded PRNG, and the backends to run against. */
import { availableCryptoBackends } from '../../../shared/crypto/backend.ts';
import type { CryptoBackend } from '../../../shared/crypto/types.ts';

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

/** A deterministic byte source (mulberry32), so "random" inputs are the same every run. */
export function seededBytes(seed: number): (n: number) => Uint8Array {
  let state = seed >>> 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      out[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
    }
    return out;
  };
}

/** Every backend of this runtime (native and noble on Node and Deno). */
export const backends: CryptoBackend[] = availableCryptoBackends();

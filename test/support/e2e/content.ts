/**
 * Deterministic bodies of any size: the same (size, seed) gives the same bytes in the origin
 * (test process), in a bench peer or anywhere else, so a receiver can compare sha256 without
 * the bytes travelling twice. The body is 64 KiB blocks of one seeded pseudo-random block,
 * each stamped with its index at two offsets, so a hop that drops, repeats or reorders whole
 * blocks changes the hash as surely as one that flips a bit.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { Prng } from '../prng.ts';

/** Bytes per generated chunk. */
export const BLOCK = 64 * 1024;

const bases = new Map<number, Buffer>();

function baseBlock(seed: number): Buffer {
  let b = bases.get(seed);
  if (b === undefined) {
    const prng = new Prng(seed ^ 0x5eed_0000);
    b = Buffer.allocUnsafe(BLOCK);
    for (let i = 0; i < BLOCK; i += 4) b.writeUInt32LE(prng.u32(), i);
    bases.set(seed, b);
  }
  return b;
}

/**
 * Block `index` of the body (a fresh buffer the caller may hand to a socket), cut to `length`
 * bytes when the body ends inside it.
 */
export function contentBlock(seed: number, index: number, length = BLOCK): Buffer {
  const out = Buffer.allocUnsafe(length);
  baseBlock(seed).copy(out, 0, 0, length);
  if (length >= 8) {
    out.writeUInt32LE(index >>> 0, 0);
    out.writeUInt32LE(seed >>> 0, 4);
  }
  if (length >= BLOCK / 2 + 4) out.writeUInt32LE(index >>> 0, BLOCK / 2);
  return out;
}

/** Calls `emit` with each chunk of the body in order (synchronously). */
export function forEachBlock(size: number, seed: number, emit: (chunk: Buffer) => void): void {
  const blocks = Math.ceil(size / BLOCK);
  for (let i = 0; i < blocks; i++) emit(contentBlock(seed, i, Math.min(BLOCK, size - i * BLOCK)));
}

/** The whole body in one buffer (for small sizes). */
export function contentBytes(size: number, seed: number): Buffer {
  const parts: Buffer[] = [];
  forEachBlock(size, seed, (c) => parts.push(c));
  return Buffer.concat(parts, size);
}

const hashes = new Map<string, string>();

/** Hex sha256 of the body of `size` bytes and `seed` (memoised per process). */
export function contentSha256(size: number, seed: number): string {
  const key = `${size}/${seed}`;
  let h = hashes.get(key);
  if (h === undefined) {
    const hash = createHash('sha256');
    forEachBlock(size, seed, (c) => hash.update(c));
    h = hash.digest('hex');
    hashes.set(key, h);
  }
  return h;
}

/** Hex sha256 of a buffer. */
export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

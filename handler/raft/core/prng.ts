/**
 * A small seeded PRNG (mulberry32) so the core's randomized election timeout and the simulator
 * are reproducible: same seed, same sequence. Not for cryptography.
 */

/** A deterministic random source. */
export interface Prng {
  /** Next 32-bit unsigned integer. */
  nextUint32(): number;
  /** Uniform float in [0, 1). */
  float(): number;
  /** Uniform integer in [0, n); n must be a positive integer. */
  int(n: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
}

/** Creates a PRNG whose whole sequence is fixed by `seed` (any 32-bit integer). */
export function createPrng(seed: number): Prng {
  let state = seed >>> 0;
  const nextUint32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const float = (): number => nextUint32() / 4294967296;
  return {
    nextUint32,
    float,
    int: (n) => Math.floor(float() * n),
    chance: (p) => float() < p,
  };
}

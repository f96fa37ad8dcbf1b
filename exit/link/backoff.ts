/**
 * Reconnect delays for reverse-mode links: exponential from `minMs`, capped at `maxMs`, each
 * shortened by a random fraction of at most `jitter` ("equal jitter" in the AWS Architecture
 * Blog "Exponential Backoff And Jitter") so exits that lost the same handler at once do not
 * reconnect in lockstep. With jitter <= 0.5 the delays never decrease until the cap.
 */
import { codedError, ErrorCode } from '../../shared/errors.ts';

/** Backoff settings. */
export interface BackoffOptions {
  /** First delay, ms. */
  minMs: number;
  /** Largest delay, ms. */
  maxMs: number;
  /** Fraction 0-1 of each delay that may be cut at random. */
  jitter: number;
  /** Uniform random number in [0, 1) (default Math.random; tests inject a sequence). */
  random?: () => number;
}

/** Defaults: 500 ms doubling to 30 s, up to half cut at random (as the client's reconnect). */
export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = { minMs: 500, maxMs: 30_000, jitter: 0.5 };

/** A failure counter that turns into delays. */
export class Backoff {
  readonly #o: Required<BackoffOptions>;
  #failures = 0;

  constructor(options: Partial<BackoffOptions> = {}) {
    const o = { ...DEFAULT_BACKOFF, random: Math.random, ...options };
    if (!(o.minMs > 0) || !Number.isFinite(o.minMs)) throw bad('minMs', o.minMs);
    if (!(o.maxMs >= o.minMs) || !Number.isFinite(o.maxMs)) throw bad('maxMs', o.maxMs);
    if (!(o.jitter >= 0 && o.jitter <= 1)) throw bad('jitter', o.jitter);
    this.#o = o;
  }

  /** Failures since the last reset(). */
  get failures(): number {
    return this.#failures;
  }

  /** Counts a failure and returns how long to wait before the next attempt, ms. */
  next(): number {
    const exp = Math.min(this.#failures, 30);
    this.#failures++;
    const base = Math.min(this.#o.maxMs, this.#o.minMs * 2 ** exp);
    return Math.round(base * (1 - this.#o.jitter * this.#o.random()));
  }

  /** After a success: the next failure waits minMs again. */
  reset(): void {
    this.#failures = 0;
  }
}

function bad(field: string, value: number): Error {
  return codedError(RangeError, ErrorCode.BAD_CONFIG, `Backoff ${field} is ${value}: expected minMs > 0, maxMs >= minMs and jitter 0-1`);
}

/**
 * A token bucket (RFC 2697's single-rate meter, without colours): `rate` tokens per second
 * refill up to `burst`. Two uses here: admitting new connections per IP (take one token or
 * refuse) and shaping a user's bytes (take n tokens, go into debt, and wait until the debt is
 * repaid). Shaping by debt instead of refusing keeps TCP semantics: bytes are delayed, never
 * dropped, and several streams of one user queue behind each other in arrival order.
 * The clock is injected so tests need no timers.
 */
import { codedError, ErrorCode } from '../../shared/errors.ts';

/** Rate and capacity of a bucket. */
export interface TokenBucketOptions {
  /** Tokens added per second (> 0). */
  rate: number;
  /** Capacity (> 0); the bucket starts full. */
  burst: number;
  /** Milliseconds, monotonic enough for rate limiting (default performance.now). */
  now?: () => number;
}

function check(rate: number, burst: number): void {
  if (!(rate > 0) || !Number.isFinite(rate)) throw codedError(RangeError, ErrorCode.BAD_CONFIG, `Token bucket rate must be a positive number, got ${rate}`);
  if (!(burst > 0) || !Number.isFinite(burst)) throw codedError(RangeError, ErrorCode.BAD_CONFIG, `Token bucket burst must be a positive number, got ${burst}`);
}

/** One bucket. */
export class TokenBucket {
  #rate: number;
  #burst: number;
  #tokens: number;
  #last: number;
  readonly #now: () => number;

  constructor(options: TokenBucketOptions) {
    check(options.rate, options.burst);
    this.#rate = options.rate;
    this.#burst = options.burst;
    this.#tokens = options.burst;
    this.#now = options.now ?? (() => performance.now());
    this.#last = this.#now();
  }

  /** Tokens available now (negative while in debt). */
  get tokens(): number {
    this.#refill();
    return this.#tokens;
  }

  get rate(): number {
    return this.#rate;
  }

  /** Changes rate and capacity from now on; tokens above the new capacity are dropped. */
  configure(rate: number, burst: number): void {
    check(rate, burst);
    this.#refill();
    this.#rate = rate;
    this.#burst = burst;
    this.#tokens = Math.min(this.#tokens, burst);
  }

  /** Takes `n` tokens if they are all there; false (and nothing taken) otherwise. */
  tryTake(n = 1): boolean {
    this.#refill();
    if (this.#tokens < n) return false;
    this.#tokens -= n;
    return true;
  }

  /**
   * Takes `n` tokens even if that puts the bucket in debt, and returns how many milliseconds
   * the caller should wait before moving the bytes (0 when no debt).
   */
  take(n: number): number {
    this.#refill();
    this.#tokens -= n;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.#rate) * 1000);
  }

  #refill(): void {
    const t = this.#now();
    const elapsed = t - this.#last;
    // A clock that steps back refills nothing rather than draining the bucket.
    if (elapsed > 0) this.#tokens = Math.min(this.#burst, this.#tokens + (elapsed / 1000) * this.#rate);
    this.#last = Math.max(this.#last, t);
  }
}

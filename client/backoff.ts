/**
 * Reconnect delays: exponential backoff with jitter ("Exponential Backoff And Jitter", AWS
 * Architecture Blog, 2015). The base doubles per failed attempt up to a cap; `jitter` is the
 * fraction of it drawn at random, so a fleet of clients cut off by the same outage does not
 * come back in lockstep. jitter 1 is the blog's "full jitter" (uniform in [0, base]); 0.5 its
 * "equal jitter" (the config default: never reconnect sooner than half the base).
 */
import { codedError, ErrorCode } from '../shared/errors.ts';

/** Backoff bounds, in milliseconds, and the random fraction of each delay (0-1). */
export interface BackoffOptions {
  readonly minMs: number;
  readonly maxMs: number;
  readonly jitter: number;
}

/** Checks the options; throws BAD_CONFIG naming the field (config `reconnect.*`). */
export function checkBackoff(o: BackoffOptions): BackoffOptions {
  if (!Number.isFinite(o.minMs) || o.minMs < 0) {
    throw codedError(RangeError, ErrorCode.BAD_CONFIG, `reconnect.min must be a non-negative number of ms, got ${o.minMs}`);
  }
  if (!Number.isFinite(o.maxMs) || o.maxMs < o.minMs) {
    throw codedError(RangeError, ErrorCode.BAD_CONFIG, `reconnect.max must be at least reconnect.min (${o.minMs} ms), got ${o.maxMs}`);
  }
  if (!(o.jitter >= 0 && o.jitter <= 1)) {
    throw codedError(RangeError, ErrorCode.BAD_CONFIG, `reconnect.jitter must be a fraction from 0 to 1, got ${o.jitter}`);
  }
  return o;
}

/**
 * The delay before reconnect attempt `attempt` (0 for the first retry after a loss):
 * base = min(maxMs, minMs * 2^attempt), delay = base * (1 - jitter) + random() * base * jitter.
 * `random` returns a number in [0, 1) (injected so tests are deterministic).
 */
export function backoffDelay(attempt: number, o: BackoffOptions, random: () => number = Math.random): number {
  // 2^40 ms is far beyond any cap; bounding the exponent keeps the product finite.
  const base = Math.min(o.maxMs, o.minMs * 2 ** Math.min(Math.max(0, attempt), 40));
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(base * (1 - o.jitter) + r * base * o.jitter);
}

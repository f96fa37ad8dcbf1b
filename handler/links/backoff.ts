/**
 * Reconnect delays: exponential backoff with jitter ("full jitter" shortened to a fraction, as
 * the AWS architecture blog's backoff article compares), so the links of many handlers to one
 * restarted exit do not come back in lockstep.
 */

/** Backoff settings. */
export interface BackoffOptions {
  /** First delay, ms. */
  minMs: number;
  /** Cap, ms. */
  maxMs: number;
  /** Fraction (0-1) by which a delay may be shortened at random. */
  jitter: number;
}

/** Defaults for link reconnects: 0.5 s doubling to 30 s, up to 30% shorter. */
export const DEFAULT_LINK_BACKOFF: Readonly<BackoffOptions> = { minMs: 500, maxMs: 30_000, jitter: 0.3 };

/** Delay before reconnect attempt number `attempt` (0-based); `random` returns [0, 1). */
export function backoffDelay(attempt: number, o: BackoffOptions, random: () => number = Math.random): number {
  const full = Math.min(o.maxMs, o.minMs * 2 ** Math.min(attempt, 30));
  return Math.max(0, Math.round(full * (1 - o.jitter * random())));
}

/**
 * New-connection rate per client IP (ARCHITECTURE 7): one token bucket per address, kept in a
 * bounded map (least recently used evicted first), so a flood of spoofed-looking sources
 * cannot grow memory without bound. An evicted address starts again with a full bucket, which
 * only errs towards letting a connection in.
 */
import { TokenBucket } from './token-bucket.ts';

/** Options of the per-IP limiter. */
export interface ConnectionRateOptions {
  /** New connections per second per IP. */
  rate: number;
  /** Bucket capacity per IP. */
  burst: number;
  /** Addresses remembered (default 65536). */
  maxAddresses?: number;
  now?: () => number;
}

/** Admits or refuses new connections by source address. */
export class ConnectionRateLimiter {
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #options: ConnectionRateOptions;
  readonly #max: number;

  constructor(options: ConnectionRateOptions) {
    this.#options = options;
    this.#max = options.maxAddresses ?? 65_536;
    // Validates rate and burst once, at construction.
    void new TokenBucket({ rate: options.rate, burst: options.burst });
  }

  /** True when `address` may open one more connection now (and counts it). */
  allow(address: string): boolean {
    let bucket = this.#buckets.get(address);
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#max) {
        const oldest = this.#buckets.keys().next();
        if (!oldest.done) this.#buckets.delete(oldest.value);
      }
      const o = this.#options;
      bucket = new TokenBucket({ rate: o.rate, burst: o.burst, ...(o.now === undefined ? {} : { now: o.now }) });
    } else {
      // Re-insert: Map order is the LRU order.
      this.#buckets.delete(address);
    }
    this.#buckets.set(address, bucket);
    return bucket.tryTake(1);
  }

  /** Addresses currently tracked. */
  get size(): number {
    return this.#buckets.size;
  }
}

/**
 * The client address for per-IP limits: the socket's peer, or with `trustProxy` the last
 * X-Forwarded-For entry (the one our own terminator appended; earlier entries are whatever the
 * client claimed).
 */
export function clientAddress(headers: Headers, socketAddress: string, trustProxy: boolean): string {
  if (!trustProxy) return socketAddress;
  const xff = headers.get('x-forwarded-for');
  if (xff === null) return socketAddress;
  const last = xff.split(',').pop()?.trim() ?? '';
  return last === '' ? socketAddress : last;
}

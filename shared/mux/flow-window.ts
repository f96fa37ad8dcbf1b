/**
 * Credit accounting for one flow-control window, receive side and send side. Pure arithmetic,
 * used for every stream and for the session (stream 0), as in RFC 9113 section 5.2 and 6.9:
 * the sender never has more bytes in flight than the receiver granted, and the receiver grants
 * bytes back only once its consumer has taken them.
 *
 * A receive window may also grow (docs/mux.md "Window auto-tuning"), the rule of quic-go and
 * Chromium's QUIC: when the consumer takes more than half the window within a few round trips,
 * the window, not the consumer, is what limits the flow, so it doubles, up to a maximum (and,
 * for session windows, within a budget shared by the sessions of a process: the session window
 * bounds all of a session's unread data, so it is the one that costs memory). The extra credit
 * goes out with the next WINDOW frame, which docs/protocol.md section 5 allows, so the wire
 * does not change.
 */

import { codedError, ErrorCode } from '../errors.ts';
import { MAX_WINDOW } from '../protocol/constants.ts';

/**
 * How many round trips consuming a whole window may take and still count as "window-limited":
 * the window grows when the consumer takes bytes faster than size / (GROWTH_RTTS x RTT).
 */
const GROWTH_RTTS = 4;

/**
 * Windows grow only on paths at least this long (RTT, ms): the long routes auto-tuning is for.
 * Under it the hello's 256 KiB per stream still carries 25 MiB/s or more. A lower floor let
 * loopback windows grow: RTT samples taken while processes warm up or move bulk data run 2-20
 * ms there, and the growth bought 12 % more bulk throughput for a handler 50 MiB larger after
 * it (docs/benchmarks.md).
 */
export const MIN_TUNED_RTT_MS = 10;

/**
 * Bytes by which session windows may grow beyond their initial sizes, in total. One budget is
 * shared by the sessions of a process, so a thousand peers cannot each grow their windows to
 * the maximum: the worst case of memory held for unread data stays "initial windows + limit".
 */
export class WindowBudget {
  /** The most bytes of growth outstanding at once. */
  readonly limit: number;
  #used = 0;

  /** Throws BAD_CONFIG unless `limit` is a non-negative integer. */
  constructor(limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 0) {
      throw codedError(RangeError, ErrorCode.BAD_CONFIG, `Window budget must be a non-negative integer, got ${String(limit)}`);
    }
    this.limit = limit;
  }

  /** Bytes of growth currently held by live windows. */
  get used(): number {
    return this.#used;
  }

  /** Takes up to `n` bytes; returns how many it got (0 once the budget is spent). */
  take(n: number): number {
    const granted = Math.max(0, Math.min(n, this.limit - this.#used));
    this.#used += granted;
    return granted;
  }

  /** Gives back `n` bytes taken earlier. */
  give(n: number): void {
    this.#used = Math.max(0, this.#used - n);
  }
}

/** What a receive window needs to grow: its ceiling, the shared budget, a clock and the RTT. */
export interface WindowTuning {
  /** The window never grows beyond this many bytes. */
  readonly maxSize: number;
  /** Where growth is charged; null for stream windows, whose bytes their session window already bounds. */
  readonly budget: WindowBudget | null;
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** The path's round-trip time in ms (least recent sample), or null while none was measured (no growth then). */
  rttMs(): number | null;
}

/** The receiving end of a window: what the peer may still send, and what we owe it back. */
export class ReceiveWindow {
  /** Bytes the peer may still send before it must wait for credit. */
  available: number;
  /** Bytes consumed locally and not yet returned to the peer. */
  owed = 0;
  /** The window announced so far: the hello's value plus any growth. */
  size: number;
  private threshold: number;
  /** Null when the window may not grow, or no longer (after release()). */
  private tuning: WindowTuning | null;
  /** Growth charged to the budget, given back by release(). */
  private grown = 0;
  /** Bytes the consumer took so far (not discarded ones), and where the measuring epoch began. */
  private consumed = 0;
  private epochConsumed = 0;
  private epochStart = -1;

  /**
   * `size` is the window we announced in our hello. Credit goes back in batches of at least
   * `size / 4`, so WINDOW frames stay rare but the sender never idles: with an empty receive
   * buffer it always holds at least three quarters of the window. With `tuning` the window
   * may grow (see the file comment); without it, it keeps its size.
   */
  constructor(size: number, tuning: WindowTuning | null = null) {
    this.available = size;
    this.size = size;
    this.threshold = Math.max(1, Math.floor(size / 4));
    this.tuning = tuning;
  }

  /** Records `n` received bytes; false when they exceed the credit granted (peer violated flow control). */
  receive(n: number): boolean {
    if (n > this.available) return false;
    this.available -= n;
    return true;
  }

  /**
   * Records `n` bytes the consumer took; returns the credit to send now (0 = wait for more),
   * which includes any growth of the window.
   */
  consume(n: number): number {
    this.consumed += n;
    this.owed += n;
    if (this.owed < this.threshold) return 0;
    const grant = this.flush();
    return grant + this.autoTune();
  }

  /**
   * Records `n` bytes thrown away (a reset stream's, DATA for a closed one): their credit goes
   * back like consumed bytes, but they say nothing about how fast the consumer reads, so they
   * never grow the window. Returns the credit to send now.
   */
  discard(n: number): number {
    this.owed += n;
    return this.owed < this.threshold ? 0 : this.flush();
  }

  /** Returns all owed credit now, whatever its size. */
  flush(): number {
    const grant = this.owed;
    this.owed = 0;
    this.available += grant;
    return grant;
  }

  /**
   * Grows the window to at least `target` bytes (capped by the maximum and the budget); returns
   * the extra credit to announce, 0 when there is none. A session keeps its window at 1.5 times
   * its largest stream window this way, as Chromium does, so one grown stream is not held back
   * by the session.
   */
  ensureAtLeast(target: number): number {
    if (this.tuning === null) return 0;
    const want = Math.min(target, this.tuning.maxSize) - this.size;
    return want > 0 ? this.grow(this.tuning, want) : 0;
  }

  /**
   * Gives the window's growth back to the budget and stops it growing: its owner is gone and
   * the peer can send no more. Bytes still read afterwards return credit as before.
   */
  release(): void {
    if (this.tuning === null) return;
    this.tuning.budget?.give(this.grown);
    this.grown = 0;
    this.tuning = null;
  }

  /**
   * quic-go's rule, run each time credit goes back: once the consumer took more than half the
   * window since the epoch began, grow when that took less than GROWTH_RTTS round trips per
   * window (the consumer outpaces what the window lets through), then start a new epoch.
   */
  private autoTune(): number {
    const t = this.tuning;
    if (t === null || this.size >= t.maxSize) return 0;
    const now = t.now();
    if (this.epochStart < 0) {
      this.startEpoch(now);
      return 0;
    }
    const inEpoch = this.consumed - this.epochConsumed;
    if (inEpoch <= this.size / 2) return 0;
    const elapsed = now - this.epochStart;
    const rtt = t.rttMs();
    this.startEpoch(now);
    if (rtt === null || rtt < MIN_TUNED_RTT_MS || elapsed >= GROWTH_RTTS * (inEpoch / this.size) * rtt) return 0;
    return this.grow(t, Math.min(this.size, t.maxSize - this.size));
  }

  private startEpoch(now: number): void {
    this.epochStart = now;
    this.epochConsumed = this.consumed;
  }

  private grow(t: WindowTuning, n: number): number {
    // rttMs() must not have ended the window's life on the way here (it only reads state).
    if (this.tuning !== t) return 0;
    const want = Math.min(n, MAX_WINDOW - this.size);
    const extra = t.budget === null ? want : t.budget.take(want);
    if (extra <= 0) return 0;
    this.size += extra;
    this.available += extra;
    if (t.budget !== null) this.grown += extra;
    this.threshold = Math.max(1, Math.floor(this.size / 4));
    return extra;
  }
}

/** The sending end of a window: bytes we may send. */
export class SendWindow {
  /** Bytes we may send before the peer grants more. */
  credit: number;

  constructor(initial: number) {
    this.credit = initial;
  }

  /** Adds credit from a WINDOW frame; false when the increment is zero or overflows MAX_WINDOW. */
  grant(n: number): boolean {
    if (!Number.isInteger(n) || n <= 0 || this.credit + n > MAX_WINDOW) return false;
    this.credit += n;
    return true;
  }

  /** Spends credit for `n` bytes sent; the caller never sends more than `credit`. */
  spend(n: number): void {
    this.credit -= n;
  }
}

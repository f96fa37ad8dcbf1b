/**
 * PING/PONG for a session: RTT measurement and dead-peer detection. A PING goes out after
 * `intervalMs` without receiving anything; the peer is dead when nothing at all arrives within
 * `timeoutMs` of that PING. Any inbound message counts as life, because a PONG can legitimately
 * wait behind megabytes of DATA in the peer's send buffer (docs/mux.md, "Keepalive").
 */
import { codedError, ErrorCode } from '../errors.ts';
import { PING_OPAQUE_LENGTH } from '../protocol/constants.ts';
import type { Timers } from './timers.ts';

type Probe = { sentAt: number; resolve?: (rtt: number) => void; reject?: (err: Error) => void; timer?: unknown };

// Outstanding PINGs remembered for RTT; older ones are forgotten (their PONG then measures nothing).
const MAX_OUTSTANDING = 64;

/**
 * Window auto-tuning wants an RTT sample no older than this; a busy session has no idle
 * keepalive PINGs, so pathRttMs() sends one (at most one per this interval).
 */
export const RTT_MAX_AGE_MS = 2_000;

/** Keepalive and RTT state of one session. */
export class Keepalive {
  /** Last measured round-trip time in ms, or null before the first PONG. */
  rttMs: number | null = null;

  private readonly timers: Timers;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly sendPing: (opaque: Uint8Array) => void;
  private readonly onDead: () => void;
  private lastReceived: number;
  private probeSentAt: number | null = null;
  private readonly outstanding = new Map<number, Probe>();
  private seq = 0;
  /** The least RTT sampled on this session, and when the newest sample came. */
  private minRtt: number | null = null;
  private sampledAt = -Infinity;
  private sampleAskedAt = -Infinity;
  private timer: unknown = undefined;
  private stopped = false;

  constructor(timers: Timers, intervalMs: number, timeoutMs: number, sendPing: (opaque: Uint8Array) => void, onDead: () => void) {
    this.timers = timers;
    this.intervalMs = intervalMs;
    this.timeoutMs = timeoutMs;
    this.sendPing = sendPing;
    this.onDead = onDead;
    this.lastReceived = timers.now();
  }

  /** Starts the keepalive timer (a no-op when the interval is 0). */
  start(): void {
    if (this.intervalMs > 0) this.arm();
  }

  /** Records that a message arrived. */
  received(): void {
    this.lastReceived = this.timers.now();
  }

  /** A PONG arrived with `opaque`. */
  pong(opaque: Uint8Array): void {
    if (opaque.length !== PING_OPAQUE_LENGTH) return;
    const seq = new DataView(opaque.buffer, opaque.byteOffset, opaque.byteLength).getUint32(0);
    const probe = this.outstanding.get(seq);
    if (probe === undefined) return;
    this.outstanding.delete(seq);
    const now = this.timers.now();
    const rtt = now - probe.sentAt;
    this.rttMs = rtt;
    this.minRtt = this.minRtt === null ? rtt : Math.min(this.minRtt, rtt);
    this.sampledAt = now;
    if (probe.timer !== undefined) this.timers.clearTimeout(probe.timer);
    probe.resolve?.(rtt);
  }

  /** Sends a PING now; resolves with the RTT in ms, rejects with TIMEOUT after `timeoutMs`. */
  ping(timeoutMs: number): Promise<number> {
    if (this.stopped) return Promise.reject(codedError(Error, ErrorCode.CLOSED, 'Session is closed; cannot ping'));
    return new Promise((resolve, reject) => {
      const seq = this.emit();
      const probe = this.outstanding.get(seq)!;
      probe.resolve = resolve;
      probe.reject = reject;
      probe.timer = this.timers.setTimeout(() => {
        this.outstanding.delete(seq);
        reject(codedError(Error, ErrorCode.TIMEOUT, `No PONG within ${timeoutMs} ms`));
      }, timeoutMs);
    });
  }

  /**
   * The path's round-trip time for window auto-tuning: the least RTT sampled on this session
   * (BBR's min_rtt, kept for the session's life). A PING sent during a transfer waits behind
   * queued data and a busy event loop, so only the smallest sample is the path's own delay; a
   * path that got longer only makes windows grow more slowly. When the newest sample is older
   * than RTT_MAX_AGE_MS, a silent PING goes out (at most one per RTT_MAX_AGE_MS), after the
   * caller returns: sending can close the session (a full control queue), which must not
   * happen in the middle of the caller's credit accounting. Null before the first PONG.
   */
  pathRttMs(): number | null {
    const now = this.timers.now();
    if (!this.stopped && now - this.sampledAt > RTT_MAX_AGE_MS && now - this.sampleAskedAt > RTT_MAX_AGE_MS) {
      this.sampleAskedAt = now;
      void Promise.resolve().then(() => {
        if (!this.stopped) this.emit();
      });
    }
    return this.minRtt;
  }

  /** Stops timers and fails explicit pings with `err`. */
  stop(err: Error): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    for (const probe of this.outstanding.values()) {
      if (probe.timer !== undefined) this.timers.clearTimeout(probe.timer);
      probe.reject?.(err);
    }
    this.outstanding.clear();
  }

  private emit(): number {
    const seq = this.seq;
    this.seq = (this.seq + 1) >>> 0;
    const now = this.timers.now();
    const opaque = new Uint8Array(PING_OPAQUE_LENGTH);
    const v = new DataView(opaque.buffer);
    v.setUint32(0, seq);
    v.setUint32(4, Math.floor(now) >>> 0);
    if (this.outstanding.size >= MAX_OUTSTANDING) {
      const [oldest] = this.outstanding.keys();
      const probe = this.outstanding.get(oldest!);
      // Explicit pings keep their own timers; only silent keepalive probes are dropped.
      if (probe !== undefined && probe.resolve === undefined) this.outstanding.delete(oldest!);
    }
    this.outstanding.set(seq, { sentAt: now });
    this.sendPing(opaque);
    return seq;
  }

  private check(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const now = this.timers.now();
    if (this.probeSentAt !== null) {
      if (this.lastReceived >= this.probeSentAt) {
        this.probeSentAt = null;
      } else if (now - this.probeSentAt >= this.timeoutMs) {
        this.onDead();
        return;
      }
    }
    if (this.probeSentAt === null && now - this.lastReceived >= this.intervalMs) {
      this.emit();
      this.probeSentAt = now;
    }
    this.arm();
  }

  private arm(): void {
    const now = this.timers.now();
    const due = this.probeSentAt !== null ? this.probeSentAt + this.timeoutMs : this.lastReceived + this.intervalMs;
    this.timer = this.timers.setTimeout(() => this.check(), Math.max(1, due - now));
  }
}

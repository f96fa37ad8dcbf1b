/**
 * The clock and timers a mux session uses, injected so keepalive and deadlines are testable
 * without waiting (the etcd raft habit: the driver owns time, the core only reacts to it).
 */
export interface Timers {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds; returns a handle for `clearTimeout`. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancels a timer; a no-op for handles that already fired. */
  clearTimeout(handle: unknown): void;
}

/** The real clock: `performance.now()` and the global timers. */
export const realTimers: Timers = {
  now: () => globalThis.performance.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};

/** A manual clock for tests: time moves only when `advance` is called. */
export class ManualTimers implements Timers {
  private current = 0;
  private nextId = 1;
  private readonly pending = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.pending.set(id, { at: this.current + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** Number of timers not yet fired or cleared. */
  get size(): number {
    return this.pending.size;
  }

  /** Moves time forward by `ms`, firing due timers in deadline order (bounded by the timer count). */
  advance(ms: number): void {
    const target = this.current + ms;
    for (let guard = 0; guard < 100_000; guard++) {
      let dueId = -1;
      let dueAt = Infinity;
      for (const [id, t] of this.pending) {
        if (t.at <= target && t.at < dueAt) {
          dueAt = t.at;
          dueId = id;
        }
      }
      if (dueId < 0) break;
      const t = this.pending.get(dueId)!;
      this.pending.delete(dueId);
      this.current = Math.max(this.current, t.at);
      t.fn();
    }
    this.current = target;
  }
}

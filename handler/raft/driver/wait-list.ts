/**
 * Callers waiting for something the apply loop will report, keyed (etcd's wait.Wait): a
 * proposal waits for its entry to be applied, a forwarded control request for the leader's
 * answer. Deadlines are checked by `expire()` on every tick rather than with a timer per
 * waiter, which keeps thousands of proposals in flight cheap; an AbortSignal settles at once.
 */
import { codedError, ErrorCode } from '../../../shared/errors.ts';

/** The error for an aborted signal: TIMEOUT when a deadline fired (AbortSignal.timeout), else ABORTED. */
export function abortedError(signal: AbortSignal, what: string): Error {
  const reason = signal.reason as { name?: unknown } | undefined;
  if (reason?.name === 'TimeoutError') return codedError(Error, ErrorCode.TIMEOUT, `${what} missed its deadline`, signal.reason);
  return codedError(Error, ErrorCode.ABORTED, `${what} was aborted`, signal.reason);
}

/**
 * One abort listener per signal however many waiters share it: callers often pass one
 * deadline signal for a whole batch, and a listener per waiter would pile up on it.
 */
export class AbortGroups<T> {
  readonly #groups = new Map<AbortSignal, { items: Set<T>; listener: () => void }>();
  readonly #onAbort: (item: T, signal: AbortSignal) => void;

  constructor(onAbort: (item: T, signal: AbortSignal) => void) {
    this.#onAbort = onAbort;
  }

  add(signal: AbortSignal, item: T): void {
    let g = this.#groups.get(signal);
    if (g === undefined) {
      const items = new Set<T>();
      const listener = (): void => {
        this.#groups.delete(signal);
        for (const it of items) this.#onAbort(it, signal);
      };
      g = { items, listener };
      this.#groups.set(signal, g);
      signal.addEventListener('abort', listener, { once: true });
    }
    g.items.add(item);
  }

  remove(signal: AbortSignal, item: T): void {
    const g = this.#groups.get(signal);
    if (g === undefined) return;
    g.items.delete(item);
    if (g.items.size > 0) return;
    this.#groups.delete(signal);
    signal.removeEventListener('abort', g.listener);
  }
}

interface Waiter<T> {
  resolve(value: T): void;
  reject(err: Error): void;
  deadline: number;
  signal: AbortSignal | undefined;
}

/** Waiters by key, each with a deadline and an optional AbortSignal. */
export class WaitList<K, T> {
  readonly #waiters = new Map<K, Waiter<T>>();
  readonly #what: string;
  readonly #aborts: AbortGroups<K>;

  /** `what` names the operation in TIMEOUT and ABORTED errors, e.g. "Raft proposal". */
  constructor(what: string) {
    this.#what = what;
    this.#aborts = new AbortGroups((key, signal) => this.reject(key, abortedError(signal, what)));
  }

  get size(): number {
    return this.#waiters.size;
  }

  has(key: K): boolean {
    return this.#waiters.has(key);
  }

  /** Registers a waiter; it rejects with TIMEOUT at `deadline` (ms) or ABORTED with `signal`. */
  add(key: K, deadline: number, signal?: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#waiters.set(key, { resolve, reject, deadline, signal });
      if (signal !== undefined) this.#aborts.add(signal, key);
    });
  }

  #take(key: K): Waiter<T> | undefined {
    const w = this.#waiters.get(key);
    if (w === undefined) return undefined;
    this.#waiters.delete(key);
    if (w.signal !== undefined) this.#aborts.remove(w.signal, key);
    return w;
  }

  /** Settles `key` with a value; false when nobody waits for it (any more). */
  resolve(key: K, value: T): boolean {
    const w = this.#take(key);
    if (w === undefined) return false;
    w.resolve(value);
    return true;
  }

  reject(key: K, err: Error): boolean {
    const w = this.#take(key);
    if (w === undefined) return false;
    w.reject(err);
    return true;
  }

  /** Rejects every waiter whose deadline is at or before `now`; returns how many. */
  expire(now: number): number {
    let n = 0;
    for (const [key, w] of this.#waiters) {
      if (w.deadline > now) continue;
      this.reject(key, codedError(Error, ErrorCode.TIMEOUT, `${this.#what} timed out; its outcome is unknown`));
      n++;
    }
    return n;
  }

  /** Rejects everyone (shutdown, storage failure). */
  rejectAll(err: Error): void {
    for (const key of [...this.#waiters.keys()]) this.reject(key, err);
  }
}

/**
 * Bounded waiting for the end-to-end harness: every wait has a deadline and says what it was
 * waiting for when it gives up, so a hung role shows up as a named failure, not a stuck suite.
 */

/** Rejects if `promise` has not settled within `ms`; `what` names the awaited event. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A promise with its settle functions, for events. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
}

/** Makes a Deferred. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Options of waitUntil(). */
export interface PollOptions {
  /** Give up after this long. */
  timeoutMs: number;
  /** Delay between checks. */
  intervalMs?: number;
  /** Named in the error. */
  what: string;
}

/**
 * Calls `check` until it returns a value other than undefined/false, at most every
 * `intervalMs` and for at most `timeoutMs`. Errors thrown by `check` count as "not yet";
 * the last one is quoted when the deadline passes.
 */
export async function waitUntil<T>(check: () => Promise<T | undefined | false> | T | undefined | false, o: PollOptions): Promise<T> {
  const end = Date.now() + o.timeoutMs;
  let last = '';
  for (let i = 0; i < 100_000; i++) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
      last = '';
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() >= end) break;
    await sleep(o.intervalMs ?? 100);
  }
  throw new Error(`${o.what} did not happen within ${o.timeoutMs} ms${last ? ` (last error: ${last})` : ''}`);
}

/**
 * Runs `task(i)` for i in [0, count) with at most `concurrency` in flight; returns the
 * results in index order. Rejections are returned as errors, not thrown, so one failure does
 * not hide the rest.
 */
export async function pool<T>(count: number, concurrency: number, task: (i: number) => Promise<T>): Promise<Array<T | Error>> {
  const out = new Array<T | Error>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      try {
        out[i] = await task(i);
      } catch (err) {
        out[i] = err instanceof Error ? err : new Error(String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return out;
}

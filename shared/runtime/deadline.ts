import { codedError, ErrorCode } from '../errors.ts';

/** A caller's cancellation and time budget for one network operation. */
export interface DeadlineOptions {
  /** Aborts the operation; the promise rejects with code ABORTED. */
  signal?: AbortSignal;
  /** Time budget in milliseconds; the promise rejects with code TIMEOUT when it runs out. */
  timeoutMs?: number;
}

/** An armed deadline: `signal` aborts with a coded error as its reason; `clear()` disarms it. */
export interface Deadline {
  readonly signal: AbortSignal;
  clear(): void;
}

/**
 * Combines the caller's signal with a timeout (the std `async/deadline.ts` habit) into one
 * signal whose `reason` is already a coded error (TIMEOUT or ABORTED) naming `what`, so every
 * dial or lookup rejects with a stable code instead of a bare DOMException.
 */
export function armDeadline(what: string, options: DeadlineOptions, defaultTimeoutMs: number): Deadline {
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw codedError(RangeError, ErrorCode.BAD_CONFIG, `timeoutMs for ${what} must be a positive number, got ${timeoutMs}`);
  }
  const controller = new AbortController();
  const outer = options.signal;
  const onAbort = (): void => {
    controller.abort(codedError(Error, ErrorCode.ABORTED, `${what} was aborted by the caller`, outer?.reason));
  };
  const timer = setTimeout(() => {
    controller.abort(codedError(Error, ErrorCode.TIMEOUT, `${what} did not finish within ${timeoutMs} ms`));
  }, timeoutMs);
  if (outer?.aborted) onAbort();
  else outer?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    clear(): void {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
    },
  };
}

/**
 * Dial failures are logged once per distinct reason per handler URL, then at most once per
 * quiet period with the number of repeats in between: a client that keeps reconnecting to a
 * handler with a bad certificate must not write an error line every second.
 */
import type { Logger } from '../shared/log.ts';

type Level = 'error' | 'warn';

/** Default time between two lines for the same repeating failure. */
export const DIAL_ERROR_QUIET_MS = 60_000;

/** Returns `log(handlerIndex, level, fields, message)`, and `reset()` for after a success. */
export function createDialErrorLog(logger: Logger, now: () => number = Date.now, quietMs = DIAL_ERROR_QUIET_MS) {
  const last = new Map<number, { message: string; at: number; repeats: number }>();
  return {
    log(handler: number, level: Level, fields: Record<string, unknown>, message: string): void {
      const t = now();
      const prev = last.get(handler);
      if (prev !== undefined && prev.message === message && t - prev.at < quietMs) {
        prev.repeats++;
        logger.debug({ ...fields, repeats: prev.repeats }, message);
        return;
      }
      const repeats = prev !== undefined && prev.message === message ? prev.repeats : 0;
      last.set(handler, { message, at: t, repeats: 0 });
      logger[level](repeats > 0 ? { ...fields, repeatedSinceLastLine: repeats } : fields, message);
    },
    /** Forgets what was logged, so the next failure is reported at once (after a session came up). */
    reset(): void {
      last.clear();
    },
  };
}

/** The logging surface the raft driver and transport use; a pino Logger fits it. */

/** Structured log calls: fields first, then the message (pino's argument order). */
export interface RaftLogger {
  debug(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
  error(fields: Record<string, unknown>, msg: string): void;
}

/** A logger that drops everything. */
export const silentLogger: RaftLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** Message and code of an error, for log fields (never the stack of a coded, expected error). */
export function errorFields(err: unknown): Record<string, unknown> {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return code === undefined ? { err: err.message } : { err: err.message, code };
  }
  return { err: String(err) };
}

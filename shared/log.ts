/**
 * Process logging (ARCHITECTURE 8): pino, JSON lines with stable fields (role, node, session,
 * stream, user, exit) by default, pino-pretty on a terminal. pino-pretty formats synchronously
 * in this thread (prettyFactory), not in a worker transport, so it behaves the same on Node
 * and Deno.
 * Secret fields are redacted by name at any depth (ARCHITECTURE 7: logs never contain keys or
 * tokens); config Key and Secret objects also serialise as "[redacted]" wherever they end up.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import pinoPretty from 'pino-pretty';
import { LOG_LEVELS, type LogLevel } from './config/common.ts';
import { REDACTED } from './config/keys.ts';

export type { Logger, LogLevel };
export { REDACTED };

/**
 * Field names whose values never reach a log line: exact names (noise `k`/`ck`, `key`,
 * headers) and suffixes (`privateKey`, `adminToken`, `password`...), case-insensitive.
 */
export const SECRET_FIELD =
  /^(k|ck|key|psk|seed|cookie|set-cookie|authorization|proxy-authorization)$|(privatekey|secretkey|sharedkey|secret|token|password|passphrase)$/i;

const MAX_DEPTH = 8;

function isPlainish(value: object): boolean {
  if (ArrayBuffer.isView(value) || value instanceof Date || value instanceof Error || value instanceof Map || value instanceof Set) {
    return false;
  }
  // Objects that decide their own JSON form (config Key and Secret) are left to it.
  return typeof (value as { toJSON?: unknown }).toJSON !== 'function';
}

/**
 * Returns `value` with every SECRET_FIELD replaced by "[redacted]", up to 8 levels deep.
 * Copy-on-write: the input is never modified and unchanged branches are shared. pino's own
 * `redact` is not used: with overlapping wildcard paths it writes through to the caller's
 * object (pinojs/redact issue 36), and it cannot match a name at any depth.
 */
export function redactSecrets<T>(value: T, depth = 0): T {
  if (typeof value !== 'object' || value === null || depth >= MAX_DEPTH || !isPlainish(value)) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = redactSecrets(value[i] as unknown, depth + 1);
      if (v !== value[i]) (out ??= value.slice())[i] = v;
    }
    return (out ?? value) as T;
  }
  let out: Record<string, unknown> | undefined;
  const src = value as Record<string, unknown>;
  for (const k of Object.keys(src)) {
    const v = src[k];
    const next = SECRET_FIELD.test(k) && v !== undefined && v !== null ? REDACTED : redactSecrets(v, depth + 1);
    if (next !== v) (out ??= { ...src })[k] = next;
  }
  return (out ?? value) as T;
}

/** How to build a logger. */
export type LogOptions = {
  /** Base field `role`: handler, exit, client, up or cli. */
  role: string;
  /** Base field `node`: node or exit id. */
  node?: string;
  /** Level from config; APFSDS_LOG_LEVEL in `env` wins. Default info. */
  level?: LogLevel;
  /** auto = pretty when stdout is a terminal, JSON otherwise. */
  format?: 'auto' | 'json' | 'pretty';
  env?: Readonly<Record<string, string | undefined>>;
  /** Whether stdout is a terminal; detected when absent. */
  isTty?: boolean;
  /** Where lines go; stdout when absent. */
  destination?: DestinationStream;
};

/** The stable fields of log lines; children add the ones they know. */
export type LogFields = {
  role?: string;
  node?: string;
  /** The embedded role inside `apfsds up` (exit, handler, client). */
  unit?: string;
  /** A subsystem of a role (links, raft, admin, reverse). */
  component?: string;
  session?: string;
  stream?: number;
  user?: string;
  exit?: string;
};

function isLevel(v: string | undefined): v is LogLevel {
  return v !== undefined && (LOG_LEVELS as readonly string[]).includes(v);
}

function stdoutIsTty(): boolean {
  const proc = (globalThis as { process?: { stdout?: { isTTY?: boolean } } }).process;
  return proc?.stdout?.isTTY === true;
}

/** The level a logger would use for these options (env first, then config, then info). */
export function resolveLevel(options: Pick<LogOptions, 'level' | 'env'>): LogLevel {
  const fromEnv = options.env?.['APFSDS_LOG_LEVEL']?.trim().toLowerCase();
  if (isLevel(fromEnv)) return fromEnv;
  return options.level ?? 'info';
}

/** Builds a new logger. Most code wants getLogger() or a child of it instead. */
export function createLogger(options: LogOptions): Logger {
  const format = options.format ?? 'auto';
  const usePretty = format === 'pretty' || (format === 'auto' && (options.isTty ?? stdoutIsTty()));
  const base: Record<string, string> = { role: options.role };
  if (options.node !== undefined) base['node'] = options.node;
  const common = {
    level: resolveLevel(options),
    base,
    // Child bindings (session, stream, user, exit ids) are not scrubbed: give children ids only.
    formatters: { log: (obj: Record<string, unknown>) => redactSecrets(obj) },
  };
  const out = options.destination ?? pino.destination({ dest: 1, sync: true });
  if (usePretty) {
    // prettyFactory formats in this thread; pino-pretty's stream/transport forms need Node
    // streams or a worker, which Deno's node compat and custom destinations do not all give.
    const format = pinoPretty.prettyFactory({
      colorize: options.destination === undefined && (options.isTty ?? stdoutIsTty()),
      translateTime: 'SYS:HH:MM:ss.l',
    });
    return pino(common, { write: (line: string) => void out.write(format(line)) });
  }
  const json = { ...common, formatters: { ...common.formatters, level: (label: string) => ({ level: label }) } };
  return pino(json, out);
}

let processLogger: Logger | undefined;

/**
 * Configures the process logger; call once at start, before modules ask for getLogger().
 * A later call replaces it for code that calls getLogger() afterwards.
 */
export function initLogger(options: LogOptions): Logger {
  processLogger = createLogger(options);
  return processLogger;
}

/** The process logger; before initLogger, a JSON logger at info with role "apfsds". */
export function getLogger(): Logger {
  processLogger ??= createLogger({ role: 'apfsds', format: 'json' });
  return processLogger;
}

/** A child logger with extra stable fields (e.g. `{ unit: 'exit' }` inside `up`). */
export function childLogger(parent: Logger, fields: LogFields): Logger {
  return parent.child(fields);
}

/** Logger for one client session (and, once authenticated, its user). */
export function sessionLogger(parent: Logger, session: string, user?: string): Logger {
  return parent.child(user === undefined ? { session } : { session, user });
}

/** Logger for one stream of a session. */
export function streamLogger(parent: Logger, stream: number): Logger {
  return parent.child({ stream });
}

/** Logger for work on behalf of one user. */
export function userLogger(parent: Logger, user: string): Logger {
  return parent.child({ user });
}

/** Logger for one exit (links, health). */
export function exitLogger(parent: Logger, exit: string): Logger {
  return parent.child({ exit });
}

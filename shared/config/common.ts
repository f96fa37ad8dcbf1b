/**
 * Config blocks used by several roles: listeners, TLS files, logging, metrics, the status
 * listener and the session limits every hop enforces (ARCHITECTURE 7: every limit has a default).
 */
import { z } from 'zod';
import { count, duration, filePath, host, httpPath, listenPort, size } from './primitives.ts';
import { DEFAULT_MAX_SESSION_WINDOW, DEFAULT_WINDOW_BUDGET } from '../mux/options.ts';

/** `{ host, port }` with role-specific defaults. */
export const listenSchema = (defaultHost: string, defaultPort: number) =>
  z.strictObject({ host: host().default(defaultHost), port: listenPort().default(defaultPort) });

/** TLS certificate and key files (PEM). Omit the block to serve plain HTTP behind a TLS terminator. */
export const TlsFilesSchema = z.strictObject({
  certFile: filePath('a PEM certificate file path'),
  keyFile: filePath('a PEM private key file path'),
});

/** pino levels, plus "silent". */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** A log level name. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Logging: level (APFSDS_LOG_LEVEL overrides) and format (auto = pretty on a TTY, else JSON). */
export const LogSchema = z.strictObject({
  level: z.enum(LOG_LEVELS, { error: `expected one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  format: z.enum(['auto', 'json', 'pretty'], { error: 'expected auto, json or pretty' }).default('auto'),
});

/** Prometheus exposition on the role's status/admin listener. */
export const MetricsSchema = z.strictObject({
  enabled: z.boolean({ error: 'expected true or false' }).default(true),
  path: httpPath().default('/metrics'),
});

/** A loopback-by-default listener for /health, /ready and /metrics. */
export const statusSchema = (defaultPort: number, enabled: boolean) =>
  z.strictObject({
    enabled: z.boolean({ error: 'expected true or false' }).default(enabled),
    host: host().default('127.0.0.1'),
    port: listenPort().default(defaultPort),
  });

/** A token bucket: `rate` units per second refill, `burst` units capacity. */
const bucket = (defaultRate: number, defaultBurst: number, unit: 'bytes' | 'count') => {
  const amount = unit === 'bytes' ? size(1) : count(1, 1_000_000);
  return z.strictObject({ rate: amount.default(defaultRate), burst: amount.default(defaultBurst) });
};

/**
 * How far a handler lets one client stream's upload window grow: 1 MiB (5 MiB/s at 200 ms RTT),
 * not the mux's 8 MiB. The handler is the shared, multi-tenant hop and usually the slowest one,
 * so a larger upload window mostly parks a client's data in its memory; on loopback 8 MiB
 * windows left the handler 50 MiB larger after bulk uploads (docs/benchmarks.md).
 */
export const HANDLER_MAX_UPLOAD_STREAM_WINDOW = 1 << 20;

/** Default limits, in one place so docs and code agree. */
export const LIMIT_DEFAULTS = {
  handshakeTimeout: 10_000,
  idleTimeout: 300_000,
  maxSessionsPerUser: 8,
  maxStreamsPerSession: 256,
  maxFrameSize: 16_384,
  streamWindow: 262_144,
  sessionWindow: 4_194_304,
  maxStreamWindow: HANDLER_MAX_UPLOAD_STREAM_WINDOW,
  maxSessionWindow: DEFAULT_MAX_SESSION_WINDOW,
  windowGrowthBudget: DEFAULT_WINDOW_BUDGET,
  userBandwidth: { rate: 12_500_000, burst: 4_194_304 },
  connectionRate: { rate: 10, burst: 30 },
} as const;

/**
 * The largest frame payload: a Noise transport message is at most 65535 bytes including its
 * 16-byte tag (Noise spec section 3), and a frame must fit in one.
 */
export const MAX_FRAME_SIZE_CEILING = 65_535 - 16;

/**
 * `apfsds up` serves one user on one machine, so its bucket only guards against a runaway app:
 * 10 GB/s is far above what the tunnel moves on loopback.
 */
export const UP_USER_BANDWIDTH = { rate: 10_000_000_000, burst: 64 * 1024 * 1024 } as const;

/** Session limits enforced by the handler (and by `up`). */
export const LimitsSchema = z.strictObject({
  handshakeTimeout: duration(100, 120_000).default(LIMIT_DEFAULTS.handshakeTimeout),
  idleTimeout: duration(1000).default(LIMIT_DEFAULTS.idleTimeout),
  maxSessionsPerUser: count(1, 10_000).default(LIMIT_DEFAULTS.maxSessionsPerUser),
  maxStreamsPerSession: count(1, 65_535).default(LIMIT_DEFAULTS.maxStreamsPerSession),
  maxFrameSize: size(1024, MAX_FRAME_SIZE_CEILING).default(LIMIT_DEFAULTS.maxFrameSize),
  streamWindow: size(1024, 1 << 30).default(LIMIT_DEFAULTS.streamWindow),
  sessionWindow: size(1024, 1 << 30).default(LIMIT_DEFAULTS.sessionWindow),
  /** Auto-tuning grows stream windows up to this (docs/mux.md); at or below streamWindow: no growth. */
  maxStreamWindow: size(0, 1 << 30).default(LIMIT_DEFAULTS.maxStreamWindow),
  /** The same for session and link windows. */
  maxSessionWindow: size(0, 1 << 30).default(LIMIT_DEFAULTS.maxSessionWindow),
  /** Session-window growth of all client sessions together (and of all links, a second budget) stays under this. */
  windowGrowthBudget: size(0, 2 ** 40).default(LIMIT_DEFAULTS.windowGrowthBudget),
  userBandwidth: bucket(LIMIT_DEFAULTS.userBandwidth.rate, LIMIT_DEFAULTS.userBandwidth.burst, 'bytes').prefault({}),
  connectionRate: bucket(LIMIT_DEFAULTS.connectionRate.rate, LIMIT_DEFAULTS.connectionRate.burst, 'count').prefault({}),
});

/** The same limits with the all-in-one run's bandwidth default (UP_USER_BANDWIDTH). */
export const UpLimitsSchema = LimitsSchema.extend({
  userBandwidth: bucket(UP_USER_BANDWIDTH.rate, UP_USER_BANDWIDTH.burst, 'bytes').prefault({}),
});

/** Parsed session limits. */
export type Limits = z.output<typeof LimitsSchema>;
/** Parsed logging settings. */
export type LogConfig = z.output<typeof LogSchema>;
/** Parsed metrics settings. */
export type MetricsConfig = z.output<typeof MetricsSchema>;
/** Parsed TLS file settings. */
export type TlsFiles = z.output<typeof TlsFilesSchema>;

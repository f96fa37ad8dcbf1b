/**
 * Handler config: the edge that terminates client sessions, routes streams to exits and runs
 * the Raft control plane (ARCHITECTURE 1, 4, 5, 7, 8). Users and exits listed here seed the
 * replicated state until it is managed through the admin API.
 */
import { z } from 'zod';
import {
  LimitsSchema,
  LogSchema,
  MetricsSchema,
  TlsFilesSchema,
  listenSchema,
} from './common.ts';
import { keyPairSchema, keyRef, secretRef } from './keys.ts';
import { DEFAULT_MAX_SESSION_WINDOW, DEFAULT_MAX_STREAM_WINDOW } from '../mux/options.ts';
import {
  count,
  duration,
  filePath,
  host,
  httpUrl,
  id,
  listenPort,
  region,
  secretPath,
  size,
  wsUrl,
  wsUrlAnyPath,
} from './primitives.ts';

/** What plain HTTP visitors and failed probes see (ARCHITECTURE 3, failure answers). */
export const DecoySchema = z.discriminatedUnion(
  'mode',
  [
    z.strictObject({ mode: z.literal('builtin') }),
    z.strictObject({ mode: z.literal('static'), dir: filePath('a directory with the static site') }),
    z.strictObject({ mode: z.literal('proxy'), upstream: httpUrl('an upstream site') }),
  ],
  { error: 'expected decoy.mode to be builtin, static or proxy' },
);

/** A user in the seed state. */
export const UserSchema = z.strictObject({
  id: id('a user id'),
  publicKey: keyRef('public'),
  status: z.enum(['active', 'disabled'], { error: 'expected active or disabled' }).default('active'),
  /** Total bytes allowed (both directions); absent = unlimited. */
  quota: size(0).optional(),
  /** Bytes per second; absent = limits.userBandwidth.rate. */
  rateLimit: size(1).optional(),
  /** Regions this user may exit in; absent = all, an empty list = none. */
  allowedRegions: z.array(region(), { error: 'expected a list of regions' }).optional(),
  /** Concurrent sessions; absent = limits.maxSessionsPerUser. */
  maxSessions: count(1, 10_000).optional(),
});

/** An exit in the seed registry. */
export const ExitEntrySchema = z
  .strictObject({
    id: id('an exit id'),
    /** Where the handler dials the exit (mode dial); includes the exit's secret link path. */
    url: wsUrl('an exit link').optional(),
    region: region(),
    /** Integer share of new streams (smooth weighted round-robin, ARCHITECTURE 5). */
    weight: z
      .number({ error: 'expected a whole weight from 1 to 1000000' })
      .int('expected a whole weight from 1 to 1000000')
      .gt(0, 'expected a weight greater than 0')
      .max(1_000_000, 'expected a weight of at most 1000000')
      .default(1),
    publicKey: keyRef('public'),
    mode: z.enum(['dial', 'reverse'], { error: 'expected dial or reverse' }).default('dial'),
    state: z.enum(['active', 'draining', 'disabled'], { error: 'expected active, draining or disabled' }).default('active'),
  })
  .superRefine((e, ctx) => {
    if (e.mode === 'dial' && e.url === undefined) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'expected a wss:// URL for an exit in mode dial (or set mode: reverse)' });
    }
  });

/**
 * Exit health (ARCHITECTURE 5): active link heartbeats, and passive ejection after
 * failureThreshold consecutive OPEN failures for min(ejectBackoffMax, ejectBackoffMin * 2^n),
 * then one half-open probe stream. Maps onto handler/routing HealthOptions.
 */
export const HealthSchema = z
  .strictObject({
    heartbeatInterval: duration(100, 600_000).default(5_000),
    heartbeatTimeout: duration(100, 600_000).default(10_000),
    maxMissedHeartbeats: count(1, 1000).default(3),
    failureThreshold: count(1, 1000).default(5),
    ejectBackoffMin: duration(100).default(10_000),
    ejectBackoffMax: duration(100).default(300_000),
    /** Fraction by which an ejection may be shortened at random, so exits do not return together. */
    jitter: z.number({ error: 'expected a fraction from 0 to 1' }).min(0).max(1).default(0.2),
    probeTimeout: duration(100).default(30_000),
  })
  .superRefine((h, ctx) => {
    if (h.ejectBackoffMin > h.ejectBackoffMax) {
      ctx.addIssue({ code: 'custom', path: ['ejectBackoffMax'], message: 'expected ejectBackoffMax >= ejectBackoffMin' });
    }
  });

/** Pooled handler-to-exit links. */
export const LinksSchema = z.strictObject({
  /** Links kept open to each dial-mode exit. */
  poolSize: count(1, 64).default(2),
  maxStreamsPerLink: count(1, 65_535).default(1024),
  dialTimeout: duration(100, 120_000).default(10_000),
  /** Window auto-tuning of links (docs/mux.md): stream windows grow up to this; at or below limits.streamWindow: no growth. */
  maxStreamWindow: size(0, 1 << 30).default(DEFAULT_MAX_STREAM_WINDOW),
  /** The same for link session windows (16 MiB at first). */
  maxSessionWindow: size(0, 1 << 30).default(DEFAULT_MAX_SESSION_WINDOW),
  /** Secret path where reverse-mode exits connect; absent = reverse mode refused. */
  path: secretPath().optional(),
});

/** The admin API (ARCHITECTURE 7: localhost by default, bearer token required). */
export const AdminSchema = z
  .strictObject({
    enabled: z.boolean({ error: 'expected true or false' }).default(true),
    host: host().default('127.0.0.1'),
    port: listenPort().default(9090),
    token: secretRef('an admin bearer token', 16).optional(),
  })
  .superRefine((a, ctx) => {
    if (a.enabled && a.token === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['token'],
        message: 'expected an admin token ({ file: path } or { env: NAME }) while the admin API is enabled',
      });
    }
  });

/** A Raft peer (including this node). */
export const PeerSchema = z.strictObject({ id: id('a node id'), url: wsUrlAnyPath('a raft peer') });

/**
 * Raft settings (ARCHITECTURE 4). No peers = a single-node cluster of this handler, which then
 * opens no raft listener (nobody could reach it: its own URL is listed nowhere).
 */
export const RaftSchema = z
  .strictObject({
    dataDir: filePath('a data directory').default('./data/raft'),
    listen: listenSchema('0.0.0.0', 7443).prefault({}),
    peers: z.array(PeerSchema, { error: 'expected a list of peers' }).max(7, 'expected at most 7 voting peers').default([]),
    tickInterval: duration(10, 10_000).default(100),
    electionTicks: count(2, 1000).default(10),
    heartbeatTicks: count(1, 1000).default(1),
    snapshotThreshold: count(1, 100_000_000).default(10_000),
    /**
     * Join a running cluster: start empty and wait to be added by the leader (a learner, then
     * promoted) instead of bootstrapping the founding membership from peers.
     */
    join: z.boolean({ error: 'expected true or false' }).default(false),
  })
  .superRefine((r, ctx) => {
    if (r.join && r.peers.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['join'], message: 'expected raft.peers (the running members and this node) when raft.join is true' });
    }
    if (r.electionTicks <= r.heartbeatTicks) {
      ctx.addIssue({ code: 'custom', path: ['electionTicks'], message: 'expected electionTicks > heartbeatTicks' });
    }
    r.peers.forEach((p, i) => {
      if (r.peers.findIndex((q) => q.id === p.id) !== i) {
        ctx.addIssue({ code: 'custom', path: ['peers', i, 'id'], message: `expected unique peer ids; "${p.id}" repeats` });
      }
    });
  });

/** The whole handler config. */
export const HandlerConfigSchema = z
  .strictObject({
    nodeId: id('a node id').default('h1'),
    listen: listenSchema('0.0.0.0', 443).prefault({}),
    /** Absent = plain HTTP (behind a TLS terminator). */
    tls: TlsFilesSchema.optional(),
    /** Trust X-Forwarded-For from the terminator for per-IP limits. */
    trustProxy: z.boolean({ error: 'expected true or false' }).default(false),
    path: secretPath(),
    clusterKey: keyPairSchema(),
    decoy: DecoySchema.prefault({ mode: 'builtin' }),
    limits: LimitsSchema.prefault({}),
    users: z.array(UserSchema, { error: 'expected a list of users' }).default([]),
    exits: z.array(ExitEntrySchema, { error: 'expected a list of exits' }).default([]),
    links: LinksSchema.prefault({}),
    health: HealthSchema.prefault({}),
    admin: AdminSchema.prefault({}),
    raft: RaftSchema.prefault({}),
    metrics: MetricsSchema.prefault({}),
    log: LogSchema.prefault({}),
  })
  .superRefine((h, ctx) => {
    unique(h.users.map((u) => u.id), ['users'], 'user id', ctx);
    unique(h.exits.map((e) => e.id), ['exits'], 'exit id', ctx);
    if (h.raft.peers.length > 0 && !h.raft.peers.some((p) => p.id === h.nodeId)) {
      ctx.addIssue({
        code: 'custom',
        path: ['raft', 'peers'],
        message: `expected raft.peers to include this node (nodeId "${h.nodeId}")`,
      });
    }
    if (h.path === h.links.path) {
      ctx.addIssue({ code: 'custom', path: ['links', 'path'], message: 'expected links.path to differ from path' });
    }
  });

function unique(ids: string[], at: string[], what: string, ctx: z.RefinementCtx): void {
  ids.forEach((v, i) => {
    if (ids.indexOf(v) !== i) ctx.addIssue({ code: 'custom', path: [...at, i, 'id'], message: `expected unique ${what}s; "${v}" repeats` });
  });
}

/** Parsed handler config. */
export type HandlerConfig = z.output<typeof HandlerConfigSchema>;
/** A parsed seed user. */
export type UserConfig = z.output<typeof UserSchema>;
/** A parsed seed exit. */
export type ExitEntry = z.output<typeof ExitEntrySchema>;
/** Parsed decoy settings. */
export type DecoyConfig = z.output<typeof DecoySchema>;
/** Parsed health settings. */
export type HealthConfig = z.output<typeof HealthSchema>;
/** Parsed raft settings. */
export type RaftConfig = z.output<typeof RaftSchema>;

/**
 * Client config: the local SOCKS5 + HTTP CONNECT proxy that multiplexes app connections over
 * a small pool of WSS + Noise IK sessions to handlers (ARCHITECTURE 1, 3).
 */
import { z } from 'zod';
import { LogSchema, MetricsSchema, listenSchema, statusSchema } from './common.ts';
import { decodeBase64Url } from './base64url.ts';
import { keyPairSchema, keyRef, secretRef } from './keys.ts';
import { count, duration, filePath, region, size, wsUrl } from './primitives.ts';
import { DEFAULT_MAX_SESSION_WINDOW, DEFAULT_MAX_STREAM_WINDOW, DEFAULT_WINDOW_BUDGET } from '../mux/options.ts';

/** SOCKS5 username/password (RFC 1929: each 1-255 bytes); also checked for HTTP Proxy-Authorization. */
export const ProxyAuthSchema = z.strictObject({
  username: z
    .string({ error: 'expected a username' })
    .min(1, 'expected a username of 1-255 characters')
    .max(255, 'expected a username of 1-255 characters'),
  password: secretRef('a password'),
});

const PIN_HINT =
  'expected the SHA-256 of the server certificate (DER) as 64 hex digits (colons allowed) or 44 base64 characters';

/** A certificate pin: SHA-256 of the leaf certificate DER, as `openssl x509 -fingerprint -sha256` prints it or base64. */
const pin = () =>
  z.string({ error: PIN_HINT }).refine((p) => {
    const t = p.trim();
    if (/^(?:[0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2}$/.test(t)) return true;
    const bytes = /^[A-Za-z0-9+/]{43}=$/.test(t) ? decodeBase64Url(t.replace(/\+/g, '-').replace(/\//g, '_')) : undefined;
    return bytes !== undefined && bytes.length === 32;
  }, PIN_HINT);

/**
 * Server certificate checks (shared/runtime/tls.ts). System CAs by default; caFile trusts
 * that CA instead. With pins and no caFile the pin alone decides (self-signed handlers work);
 * with both, both must pass.
 */
export const ClientTlsSchema = z.strictObject({
  caFile: filePath('a PEM CA file path').optional(),
  pinSha256: z.array(pin(), { error: 'expected a list of pins' }).default([]),
});

/** The whole client config. */
export const ClientConfigSchema = z
  .strictObject({
    listen: listenSchema('127.0.0.1', 1080).prefault({}),
    auth: ProxyAuthSchema.optional(),
    /** Handler URLs with the secret path; sessions fail over between them. */
    handlers: z
      .array(wsUrl('a handler'), { error: 'expected a list of wss:// handler URLs' })
      .min(1, 'expected at least one handler URL'),
    /** The handler cluster's public key (Noise IK responder static). */
    clusterPublicKey: keyRef('public'),
    /** This user's static key pair (Noise IK initiator static). */
    key: keyPairSchema(),
    tls: ClientTlsSchema.prefault({}),
    /** Long-lived sessions kept open; streams spread over them. */
    poolSize: count(1, 16).default(2),
    keepalive: z
      .strictObject({
        interval: duration(1000, 600_000).default(15_000),
        timeout: duration(1000, 600_000).default(10_000),
      })
      .prefault({}),
    reconnect: z
      .strictObject({
        min: duration(10, 600_000).default(500),
        max: duration(10, 3_600_000).default(30_000),
        /** Fraction of each delay randomised (0 = none, 1 = full jitter). */
        jitter: z.number({ error: 'expected a fraction from 0 to 1' }).min(0).max(1).default(0.5),
      })
      .prefault({})
      .superRefine((r, ctx) => {
        if (r.min > r.max) ctx.addIssue({ code: 'custom', path: ['max'], message: 'expected reconnect.max >= reconnect.min' });
      }),
    handshakeTimeout: duration(100, 120_000).default(10_000),
    /** How long an OPEN may wait for OPEN_OK before the app connection is refused. */
    openTimeout: duration(100, 120_000).default(15_000),
    /** Preferred exit region; absent = any. */
    region: region().optional(),
    /** Window auto-tuning of the client's sessions (docs/mux.md): how far downloads may grow their windows. */
    limits: z
      .strictObject({
        maxStreamWindow: size(0, 1 << 30).default(DEFAULT_MAX_STREAM_WINDOW),
        maxSessionWindow: size(0, 1 << 30).default(DEFAULT_MAX_SESSION_WINDOW),
        windowGrowthBudget: size(0, 2 ** 40).default(DEFAULT_WINDOW_BUDGET),
      })
      .prefault({}),
    status: statusSchema(9092, false).prefault({}),
    metrics: MetricsSchema.prefault({}),
    log: LogSchema.prefault({}),
  });

/** Parsed client config. */
export type ClientConfig = z.output<typeof ClientConfigSchema>;

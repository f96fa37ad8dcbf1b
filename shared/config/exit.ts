/**
 * Exit config: the egress that accepts handler links (or dials handlers in reverse mode),
 * opens the real connections and applies the egress policy (ARCHITECTURE 1, 3, 7).
 */
import { z } from 'zod';
import { LogSchema, MAX_FRAME_SIZE_CEILING, MetricsSchema, TlsFilesSchema, statusSchema } from './common.ts';
import { keyPairSchema, keyRef } from './keys.ts';
import { cidr, count, dnsServer, duration, host, id, listenPort, region, secretPath, size, wsUrl } from './primitives.ts';
import { DEFAULT_MAX_STREAM_WINDOW, DEFAULT_WINDOW_BUDGET } from '../mux/options.ts';

/** Where handlers dial this exit (mode dial). */
export const ExitListenSchema = z.strictObject({
  host: host().default('0.0.0.0'),
  port: listenPort().default(8443),
  /** The secret link path; handlers' exit URLs end with it. */
  path: secretPath(),
  /** Absent = plain ws:// (behind a TLS terminator, or on a private network). */
  tls: TlsFilesSchema.optional(),
});

/**
 * Egress policy (exit/egress/policy.ts). Private, loopback, link-local, CGNAT, multicast,
 * reserved and metadata ranges are refused unless `allow` opens them (ARCHITECTURE 7);
 * `deny` closes more ranges.
 */
export const EgressSchema = z.strictObject({
  allow: z.array(cidr(), { error: 'expected a list of CIDRs' }).default([]),
  deny: z.array(cidr(), { error: 'expected a list of CIDRs' }).default([]),
});

/** Resolver settings; no servers = the system resolver. */
export const DnsSchema = z.strictObject({
  servers: z.array(dnsServer(), { error: 'expected a list of DNS server addresses' }).default([]),
  prefer: z.enum(['ipv4', 'ipv6'], { error: 'expected ipv4 or ipv6' }).default('ipv4'),
  timeout: duration(100, 60_000).default(5_000),
});

/** UDP relaying (SOCKS5 UDP ASSOCIATE through DATAGRAM frames). */
export const UdpSchema = z.strictObject({
  enabled: z.boolean({ error: 'expected true or false' }).default(true),
  idleTimeout: duration(1000).default(60_000),
});

/** Per-link limits at the exit. */
export const ExitLimitsSchema = z.strictObject({
  handshakeTimeout: duration(100, 120_000).default(10_000),
  idleTimeout: duration(1000).default(300_000),
  maxStreamsPerLink: count(1, 65_535).default(4096),
  maxFrameSize: size(1024, MAX_FRAME_SIZE_CEILING).default(16_384),
  streamWindow: size(1024, 1 << 30).default(262_144),
  linkWindow: size(1024, 1 << 30).default(16_777_216),
  /** Auto-tuning grows stream windows up to this (docs/mux.md); at or below streamWindow: no growth. */
  maxStreamWindow: size(0, 1 << 30).default(DEFAULT_MAX_STREAM_WINDOW),
  /** The same for link windows (linkWindow). */
  maxLinkWindow: size(0, 1 << 30).default(67_108_864),
  /** Link-window growth of this exit together stays under this many bytes. */
  windowGrowthBudget: size(0, 2 ** 40).default(DEFAULT_WINDOW_BUDGET),
});

/** The whole exit config. */
export const ExitConfigSchema = z
  .strictObject({
    id: id('an exit id'),
    region: region(),
    key: keyPairSchema(),
    /** The handler cluster's public key (Noise KK responder/initiator static). */
    clusterPublicKey: keyRef('public'),
    listen: ExitListenSchema.optional(),
    /** Reverse mode: handler link URLs (ending in the handler's links.path) this exit dials. */
    handlers: z.array(wsUrl('a handler link'), { error: 'expected a list of wss:// URLs' }).default([]),
    egress: EgressSchema.prefault({}),
    connectTimeout: duration(100, 120_000).default(10_000),
    dns: DnsSchema.prefault({}),
    udp: UdpSchema.prefault({}),
    limits: ExitLimitsSchema.prefault({}),
    status: statusSchema(9091, true).prefault({}),
    metrics: MetricsSchema.prefault({}),
    log: LogSchema.prefault({}),
  })
  .superRefine((e, ctx) => {
    if (e.listen === undefined && e.handlers.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['listen'],
        message: 'expected listen (handlers dial this exit) or handlers (reverse mode), or both',
      });
    }
  });

/** Parsed exit config. */
export type ExitConfig = z.output<typeof ExitConfigSchema>;
/** Parsed egress policy settings. */
export type EgressConfig = z.output<typeof EgressSchema>;

/**
 * The all-in-one run (`apfsds up`, the default of `npm start`): handler, exit and local proxy
 * in one process on one machine. Keys, the admin token and the secret paths are generated on
 * first run into dataDir and reused; `expandUpConfig` turns the result into the three role
 * configs so the roles run with exactly the settings they would have when split.
 */
import { z } from 'zod';
import { LogSchema, MetricsSchema, UpLimitsSchema } from './common.ts';
import { ProxyAuthSchema, type ClientConfig, ClientConfigSchema } from './client.ts';
import { type ExitConfig, ExitConfigSchema } from './exit.ts';
import { type HandlerConfig, HandlerConfigSchema } from './handler.ts';
import { encodeBase64Url } from './base64url.ts';
import { derivePublicKey } from './keys.ts';
import { cidr, filePath, host, listenPort, secretPath } from './primitives.ts';

/** The all-in-one config. */
export const UpConfigSchema = z.strictObject({
  /** Where generated keys, token and raft data live (created with mode 0700). */
  dataDir: filePath('a data directory').default('./.apfsds'),
  /** Bind address of every listener. */
  host: host().default('127.0.0.1'),
  ports: z
    .strictObject({
      proxy: listenPort().default(1080),
      handler: listenPort().default(8443),
      exit: listenPort().default(8444),
      admin: listenPort().default(9090),
    })
    .prefault({}),
  /** CIDRs the exit may reach despite the private-range block (e.g. 127.0.0.1/32 for local tests). */
  allowEgress: z.array(cidr(), { error: 'expected a list of CIDRs' }).default([]),
  /** Secret session path; generated into dataDir when absent. */
  path: secretPath().optional(),
  auth: ProxyAuthSchema.optional(),
  /** As a handler's limits, but userBandwidth defaults to UP_USER_BANDWIDTH (one local user). */
  limits: UpLimitsSchema.prefault({}),
  metrics: MetricsSchema.prefault({}),
  log: LogSchema.prefault({}),
});

/** Parsed all-in-one config. */
export type UpConfig = z.output<typeof UpConfigSchema>;

/** Generated (or reloaded) material of an all-in-one run. */
export type UpMaterial = {
  clusterPrivateKey: Uint8Array;
  exitPrivateKey: Uint8Array;
  userPrivateKey: Uint8Array;
  adminToken: string;
  /** Session path, used when the config has none. */
  path: string;
  /** Handler-to-exit link path. */
  linkPath: string;
  /** Ports actually bound, when the config asked for port 0. */
  boundPorts?: { handler?: number; exit?: number };
};

/** The role configs of an all-in-one run. */
export type UpRoles = { handler: HandlerConfig; exit: ExitConfig; client: ClientConfig };

const LOCAL = 'local';

/**
 * Builds validated handler, exit and client configs for an all-in-one run. Throws the zod
 * error if the material is malformed (a programming error, not an operator one).
 */
export function expandUpConfig(up: UpConfig, m: UpMaterial): UpRoles {
  const dialHost = up.host === '0.0.0.0' || up.host === '::' ? '127.0.0.1' : up.host;
  const urlHost = dialHost.includes(':') ? `[${dialHost}]` : dialHost;
  const handlerPort = m.boundPorts?.handler ?? up.ports.handler;
  const exitPort = m.boundPorts?.exit ?? up.ports.exit;
  const path = up.path ?? m.path;
  const clusterPublic = encodeBase64Url(derivePublicKey(m.clusterPrivateKey));
  const userPublic = encodeBase64Url(derivePublicKey(m.userPrivateKey));
  const exitPublic = encodeBase64Url(derivePublicKey(m.exitPrivateKey));
  const log = { level: up.log.level, format: up.log.format };
  const handler = HandlerConfigSchema.parse({
    nodeId: LOCAL,
    listen: { host: up.host, port: up.ports.handler },
    path,
    clusterKey: { privateKey: encodeBase64Url(m.clusterPrivateKey) },
    limits: up.limits,
    users: [{ id: LOCAL, publicKey: userPublic }],
    exits: [{ id: LOCAL, url: `ws://${urlHost}:${exitPort}${m.linkPath}`, region: LOCAL, publicKey: exitPublic }],
    admin: { host: up.host, port: up.ports.admin, token: m.adminToken },
    raft: { dataDir: `${up.dataDir}/raft` },
    metrics: up.metrics,
    log,
  });
  const exit = ExitConfigSchema.parse({
    id: LOCAL,
    region: LOCAL,
    key: { privateKey: encodeBase64Url(m.exitPrivateKey) },
    clusterPublicKey: clusterPublic,
    listen: { host: up.host, port: up.ports.exit, path: m.linkPath },
    egress: { allow: up.allowEgress },
    limits: {
      maxFrameSize: up.limits.maxFrameSize,
      streamWindow: up.limits.streamWindow,
      maxStreamWindow: up.limits.maxStreamWindow,
      maxLinkWindow: up.limits.maxSessionWindow,
      windowGrowthBudget: up.limits.windowGrowthBudget,
    },
    status: { enabled: false },
    log,
  });
  const client = ClientConfigSchema.parse({
    listen: { host: up.host, port: up.ports.proxy },
    ...(up.auth === undefined ? {} : { auth: { username: up.auth.username, password: up.auth.password.value } }),
    handlers: [`ws://${urlHost}:${handlerPort}${path}`],
    clusterPublicKey: clusterPublic,
    key: { privateKey: encodeBase64Url(m.userPrivateKey) },
    handshakeTimeout: up.limits.handshakeTimeout,
    limits: {
      maxStreamWindow: up.limits.maxStreamWindow,
      maxSessionWindow: up.limits.maxSessionWindow,
      windowGrowthBudget: up.limits.windowGrowthBudget,
    },
    log,
  });
  return { handler, exit, client };
}

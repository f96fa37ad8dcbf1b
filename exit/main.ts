/**
 * The exit role (ARCHITECTURE 1): accepts handler links on its secret path (dial mode) and/or
 * keeps links to handlers it dials itself (reverse mode), answers OPENs on them by dialling
 * the destination under the egress policy, and reports /health, /ready and /metrics.
 */
import type { ExitConfig } from '../shared/config/exit.ts';
import { ReplayGuard } from '../shared/crypto/replay-guard.ts';
import { StaticKey } from '../shared/crypto/static-key.ts';
import { WindowBudget } from '../shared/mux/flow-window.ts';
import { createLogger, type Logger } from '../shared/log.ts';
import { exitMetrics, windowGrowthGauge } from '../shared/metrics/catalog.ts';
import { Registry } from '../shared/metrics/registry.ts';
import type { HttpServer } from '../shared/runtime/index.ts';
import type { EgressNet } from './egress/connect.ts';
import { createEgressPolicy } from './egress/policy.ts';
import { EgressService, type EgressStats } from './egress/service.ts';
import type { BackoffOptions } from './link/backoff.ts';
import { ReverseDialer, type ReverseDialerState } from './link/dialer.ts';
import { exitHello } from './link/hello.ts';
import { LinkSet } from './link/links.ts';
import { startLinkServer } from './link/server.ts';
import { startStatusServer } from './status.ts';

/** Options every role takes (team DATAPLANE contract), plus exit-specific knobs for tests. */
export interface ExitOptions {
  /** Logger to use (default: a new one from config.log with role "exit", node = config.id). */
  logger?: Logger;
  /** Registry for the exit metrics (default: a new one, served on the status listener). */
  registry?: Registry;
  /** Reverse-mode reconnect delays (default 500 ms doubling to 30 s, jitter 0.5). */
  reconnect?: Partial<BackoffOptions>;
  /** close(): how long links may finish their streams after GOAWAY, ms (default 5000). */
  drainTimeoutMs?: number;
  /** Link keepalive PING interval, ms (0 disables; default 15 s as the mux). */
  keepaliveIntervalMs?: number;
  /** Egress resolver and dialer (default: shared/runtime). */
  net?: EgressNet;
}

/** Counters of a running exit. */
export interface ExitStats extends EgressStats {
  /** Handler links up. */
  links: number;
}

/** A started exit (team DATAPLANE contract: linkPort, statusPort, close). */
export interface RunningExit {
  /** Bound port of the link listener (absent without config.listen). */
  linkPort?: number;
  /** Bound port of the status listener (absent when status is disabled). */
  statusPort?: number;
  /** Handler links up right now (what /ready reports). */
  readonly linksUp: number;
  /** Reverse-mode dialers, one per config.handlers URL. */
  readonly reverse: readonly ReverseDialerState[];
  /** Streams, flows and the bytes the exit holds for them. */
  stats(): ExitStats;
  /**
   * Stops: no more reverse dials, GOAWAY and drain on every link, then every stream and
   * listener is closed. Resolves when everything is down; idempotent.
   */
  close(): Promise<void>;
}

/** Starts the exit; rejects (with everything it started stopped again) if a listener cannot bind. */
export async function startExit(config: ExitConfig, options: ExitOptions = {}): Promise<RunningExit> {
  const logger = options.logger ?? createLogger({ role: 'exit', node: config.id, level: config.log.level, format: config.log.format });
  const registry = options.registry ?? new Registry();
  const metrics = exitMetrics(registry);
  const windowBudget = new WindowBudget(config.limits.windowGrowthBudget);
  windowGrowthGauge(registry, 'exit', { links: windowBudget });
  const policy = createEgressPolicy({ allow: config.egress.allow, deny: config.egress.deny, field: 'egress' });
  const egress = new EgressService({
    settings: {
      policy,
      connectTimeoutMs: config.connectTimeout,
      dnsTimeoutMs: config.dns.timeout,
      prefer: config.dns.prefer === 'ipv6' ? 6 : 4,
      dnsServers: config.dns.servers,
      ...(options.net === undefined ? {} : { net: options.net }),
    },
    idleTimeoutMs: config.limits.idleTimeout,
    udp: { enabled: config.udp.enabled, idleTimeoutMs: config.udp.idleTimeout },
    metrics,
    logger,
  });
  const links = new LinkSet({
    egress,
    metrics,
    logger,
    openTimeoutMs: config.connectTimeout + 2_000,
    windows: {
      maxStreamWindow: config.limits.maxStreamWindow,
      maxSessionWindow: config.limits.maxLinkWindow,
      windowBudget,
    },
    ...(options.keepaliveIntervalMs === undefined ? {} : { keepaliveIntervalMs: options.keepaliveIntervalMs }),
  });
  const staticKey = StaticKey.fromPrivate(config.key.privateKey.bytes);
  const clusterPublicKey = config.clusterPublicKey.bytes;
  const hello = exitHello(config);
  const handshakeTimeoutMs = config.limits.handshakeTimeout;

  let linkServer: HttpServer | undefined;
  let statusServer: HttpServer | undefined;
  const dialers: ReverseDialer[] = [];
  let closing: Promise<void> | undefined;

  const close = (): Promise<void> => {
    closing ??= (async () => {
      const stops = dialers.map((d) => d.close());
      await links.drain(options.drainTimeoutMs ?? 5_000);
      egress.close();
      await Promise.all(stops);
      await Promise.all([linkServer?.close({ graceMs: 0 }), statusServer?.close({ graceMs: 0 })]);
      staticKey.destroy();
      logger.info('stopped');
    })();
    return closing;
  };

  try {
    if (config.listen !== undefined) {
      linkServer = await startLinkServer({
        host: config.listen.host,
        port: config.listen.port,
        path: config.listen.path,
        ...(config.listen.tls === undefined ? {} : { tls: { certFile: config.listen.tls.certFile, keyFile: config.listen.tls.keyFile } }),
        staticKey,
        clusterPublicKey,
        hello,
        replayGuard: new ReplayGuard(),
        handshakeTimeoutMs,
        links,
        logger,
      });
    }
    if (config.status.enabled) {
      statusServer = await startStatusServer({
        host: config.status.host,
        port: config.status.port,
        metricsPath: config.metrics.enabled ? config.metrics.path : null,
        registry,
        linksUp: () => links.size,
      });
    }
  } catch (err) {
    await close();
    throw err;
  }
  for (const url of config.handlers) {
    dialers.push(
      new ReverseDialer({
        url,
        staticKey,
        clusterPublicKey,
        hello,
        handshakeTimeoutMs,
        links,
        logger,
        ...(options.reconnect === undefined ? {} : { backoff: options.reconnect }),
      }),
    );
  }

  const running: RunningExit = {
    get linksUp() {
      return links.size;
    },
    reverse: dialers.map((d) => d.state),
    stats: () => ({ ...egress.stats(), links: links.size }),
    close,
  };
  if (linkServer !== undefined) running.linkPort = linkServer.port;
  if (statusServer !== undefined) running.statusPort = statusServer.port;
  logger.info(
    {
      port: running.linkPort ?? null,
      statusPort: running.statusPort ?? null,
      handlers: config.handlers.length,
      region: config.region,
      crypto: staticKey.backend.provider,
    },
    'ready',
  );
  return running;
}

/**
 * `startHandler`: the handler role wired together (DATAPLANE.md, entry points). The state
 * (users, exits, usage) is a LocalStateStore seeded from config until the Raft driver is wired
 * in; every consumer talks to it through the StateStore/StateView interfaces and its events,
 * so the Raft-backed store drops in without changes here:
 *
 * - exitChanged / restored: the link pool (and through it the exit selector) takes the new
 *   exit list at once: weights apply from the next pick, draining exits take no new streams;
 * - userDisabled: that user's sessions close; userChanged / settingsChanged: new rates apply.
 *
 * The admin API (handler/api), /health, /ready and /metrics are served on config.admin.
 */
import type { HandlerConfig } from '../shared/config/handler.ts';
import { StaticKey } from '../shared/crypto/static-key.ts';
import { createLogger, type Logger } from '../shared/log.ts';
import { handlerMetrics } from '../shared/metrics/catalog.ts';
import { Registry } from '../shared/metrics/registry.ts';
import { serve, type HttpServer } from '../shared/runtime/http-server.ts';
import { createApiApp } from './api/app.ts';
import type { ApiDeps } from './api/types.ts';
import { createDecoy } from './decoy/decoy.ts';
import { Gateway } from './gateway/gateway.ts';
import { UsageLedger } from './gateway/usage.ts';
import type { BackoffOptions } from './links/backoff.ts';
import { linkHello } from './links/hello.ts';
import { LinkPool } from './links/pool.ts';
import { createExitSelector, type ExitSelector } from './routing/selector.ts';
import { LocalStateStore, type StateStore } from './state/store.ts';
import type { StateEvent } from './state/types.ts';

/** What every role's start function accepts (DATAPLANE.md). */
export interface RoleOptions {
  /** Logger to use (default: a new one from config.log, role "handler"). */
  logger?: Logger;
  /** Metrics registry to declare on (default: a new one). */
  registry?: Registry;
}

/** Extra knobs for tests and the all-in-one run; none is needed in production. */
export interface HandlerStartOptions extends RoleOptions {
  /** The state store (default: LocalStateStore seeded from config). */
  store?: StateStore;
  /** Link reconnect backoff (default 0.5 s doubling to 30 s). */
  linkBackoff?: BackoffOptions;
  /** Grace for streams on close() (ms, default 2000). */
  closeGraceMs?: number;
  /** GET /ready (default: ready once started; the Raft driver passes raftReadiness(...)). */
  readiness?: ApiDeps['readiness'];
}

/** A running handler. */
export interface RunningHandler {
  /** The public listener's port. */
  port: number;
  /** The admin listener's port, when enabled. */
  adminPort?: number;
  /** Internals for tests, the all-in-one run and the admin view. */
  readonly store: StateStore;
  readonly selector: ExitSelector;
  readonly links: LinkPool;
  readonly gateway: Gateway;
  readonly registry: Registry;
  /** Stops listening, drains and closes sessions and links, flushes usage; resolves when all is down. */
  close(): Promise<void>;
}

function healthOptions(h: HandlerConfig['health']) {
  return {
    maxMissedHeartbeats: h.maxMissedHeartbeats,
    failureThreshold: h.failureThreshold,
    baseEjectionMs: h.ejectBackoffMin,
    maxEjectionMs: h.ejectBackoffMax,
    // Config allows jitter 1; the selector needs it below 1 so an ejection never shrinks to 0.
    jitter: Math.min(h.jitter, 0.99),
    probeTimeoutMs: h.probeTimeout,
    // An exit is usable only once a link to it is up (the pool reports linkUp).
    startUp: false,
  };
}

/** Starts the handler role: gateway, links, state, admin API. Rejects with BAD_CONFIG when a port cannot be bound. */
export async function startHandler(config: HandlerConfig, options: HandlerStartOptions = {}): Promise<RunningHandler> {
  const logger =
    options.logger ?? createLogger({ role: 'handler', node: config.nodeId, level: config.log.level, format: config.log.format });
  const registry = options.registry ?? new Registry();
  const metrics = handlerMetrics(registry);
  const clusterKey = StaticKey.fromPrivate(config.clusterKey.privateKey.bytes);
  const store = options.store ?? LocalStateStore.fromConfig(config);
  const view = store.view;
  const selector = createExitSelector({ health: healthOptions(config.health) });
  const links = new LinkPool({
    staticKey: clusterKey,
    hello: linkHello(config.nodeId, config.limits, config.links.maxStreamsPerLink),
    selector,
    logger: logger.child({ component: 'links' }),
    metrics,
    poolSize: config.links.poolSize,
    maxStreamsPerLink: config.links.maxStreamsPerLink,
    dialTimeoutMs: config.links.dialTimeout,
    handshakeTimeoutMs: config.limits.handshakeTimeout,
    heartbeatIntervalMs: config.health.heartbeatInterval,
    heartbeatTimeoutMs: config.health.heartbeatTimeout,
    maxMissedHeartbeats: config.health.maxMissedHeartbeats,
    ...(options.linkBackoff === undefined ? {} : { backoff: options.linkBackoff }),
  });
  links.setExits(view.exits.list());
  const ledger = new UsageLedger({ store, handlerId: config.nodeId, logger, intervalMs: () => view.settings().usageReportInterval });

  let gateway: Gateway;
  try {
    gateway = await Gateway.start({
      config,
      clusterKey,
      state: view,
      selector,
      links,
      ledger,
      decoy: createDecoy(config.decoy),
      logger,
      metrics,
    });
  } catch (err) {
    await links.close();
    clusterKey.destroy();
    throw err;
  }
  ledger.start();

  const unsubscribe = view.subscribe((event: StateEvent) => {
    switch (event.type) {
      case 'exitChanged':
      case 'restored':
        links.setExits(view.exits.list());
        return;
      case 'userDisabled':
        gateway.closeUser(event.id, event.reason);
        return;
      case 'userChanged':
        if (event.user !== undefined) gateway.userChanged(event.user);
        return;
      case 'settingsChanged':
        gateway.settingsChanged();
        return;
    }
  });

  let admin: HttpServer | undefined;
  if (config.admin.enabled) {
    const deps: ApiDeps = {
      // The local state is applied as soon as it is seeded; a Raft-backed store brings its own check.
      readiness: options.readiness ?? (() => ({ ready: true })),
      logger,
      ...(config.metrics.enabled ? { metrics: { registry, path: config.metrics.path } } : {}),
      ...(config.admin.token === undefined ? {} : { admin: { token: config.admin.token.value, store, exitHealth: () => selector.snapshot() } }),
    };
    const app = createApiApp(deps);
    try {
      admin = await serve({ hostname: config.admin.host, port: config.admin.port, fetch: (req, info) => app.fetch(req, info) });
    } catch (err) {
      unsubscribe();
      await gateway.close(0);
      await links.close();
      await ledger.stop();
      clusterKey.destroy();
      throw err;
    }
  }

  logger.info({ port: gateway.port, address: gateway.address, ...(admin === undefined ? {} : { adminPort: admin.port }) }, 'ready');

  let closing: Promise<void> | undefined;
  return {
    port: gateway.port,
    ...(admin === undefined ? {} : { adminPort: admin.port }),
    store,
    selector,
    links,
    gateway,
    registry,
    close() {
      closing ??= (async () => {
        unsubscribe();
        await gateway.close(options.closeGraceMs ?? 2_000);
        await links.close();
        await ledger.stop();
        await admin?.close({ graceMs: 0 });
        clusterKey.destroy();
        logger.info('stopped');
      })();
      return closing;
    },
  };
}

/**
 * `startHandler`: the handler role wired together (DATAPLANE.md, entry points). The state
 * (users, exits, usage) is replicated with Raft (handler/raft-wiring.ts: every handler is a
 * member; with no raft.peers a cluster of this handler alone); tests may inject a store.
 * Every consumer talks to it through the StateStore/StateView interfaces and its events:
 *
 * - exitChanged / restored: the link pool (and through it the exit selector) takes the new
 *   exit list at once: weights apply from the next pick, draining exits take no new streams;
 * - userDisabled: that user's sessions close; userChanged / settingsChanged: new rates apply.
 *
 * The admin API (handler/api), /health, /ready and /metrics are served on config.admin.
 */
import type { HandlerConfig } from '../shared/config/handler.ts';
import { StaticKey } from '../shared/crypto/static-key.ts';
import { WindowBudget } from '../shared/mux/flow-window.ts';
import type { WindowGrowth } from '../shared/mux/options.ts';
import { createLogger, type Logger } from '../shared/log.ts';
import { handlerMetrics, windowGrowthGauge } from '../shared/metrics/catalog.ts';
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
import type { RaftNode } from './raft/index.ts';
import { startReplicatedState, type ReplicatedState } from './raft-wiring.ts';
import { createExitSelector, type ExitSelector } from './routing/selector.ts';
import type { StateStore } from './state/store.ts';
import type { ApplyResult, StateEvent } from './state/types.ts';

/** What every role's start function accepts (DATAPLANE.md). */
export interface RoleOptions {
  /** Logger to use (default: a new one from config.log, role "handler"). */
  logger?: Logger;
  /** Metrics registry to declare on (default: a new one). */
  registry?: Registry;
}

/** Extra knobs for tests and the all-in-one run; none is needed in production. */
export interface HandlerStartOptions extends RoleOptions {
  /**
   * A state store to use instead of this handler's Raft member (tests: a LocalStateStore
   * seeded from the config). Without it the handler starts Raft from config.raft.
   */
  store?: StateStore;
  /** Link reconnect backoff (default 0.5 s doubling to 30 s). */
  linkBackoff?: BackoffOptions;
  /** Grace for streams on close() (ms, default 2000). */
  closeGraceMs?: number;
  /** GET /ready (default: raftReadiness of the node; ready once started with an injected store). */
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
  /** This handler's Raft member (absent when a store was injected). */
  readonly node?: RaftNode<ApplyResult>;
  readonly selector: ExitSelector;
  readonly links: LinkPool;
  readonly gateway: Gateway;
  readonly registry: Registry;
  /** Settles once the handler is down, with the error when a fatal Raft failure stopped it. */
  readonly done: Promise<Error | null>;
  /** Stops listening, drains and closes sessions and links, flushes usage, stops Raft; resolves when all is down. */
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

/**
 * Starts the handler role: state (Raft), gateway, links, admin API. Rejects with BAD_CONFIG when
 * a port cannot be bound or a seed is refused; nothing is left running then.
 */
export async function startHandler(config: HandlerConfig, options: HandlerStartOptions = {}): Promise<RunningHandler> {
  const logger =
    options.logger ?? createLogger({ role: 'handler', node: config.nodeId, level: config.log.level, format: config.log.format });
  const registry = options.registry ?? new Registry();
  const metrics = handlerMetrics(registry);

  let fatal: Error | null = null;
  let stopOnFatal: (() => void) | undefined;
  let replicated: ReplicatedState | undefined;
  if (options.store === undefined) {
    replicated = await startReplicatedState(config, {
      logger,
      registry,
      onFatal: (err) => {
        fatal = err;
        logger.error({ err: err.message, code: (err as { code?: unknown }).code }, 'Raft stopped on a fatal error; the handler shuts down');
        stopOnFatal?.();
      },
    });
  }
  const store = options.store ?? replicated!.store;
  const view = store.view;
  // Undo stack for a failed start, newest first: what is running now stops in reverse order.
  const undo: Array<() => Promise<void>> = [];
  if (replicated !== undefined) undo.push(() => replicated.close());
  const unwind = async (): Promise<void> => {
    for (const step of undo.reverse()) await step();
  };

  const clusterKey = StaticKey.fromPrivate(config.clusterKey.privateKey.bytes);
  undo.push(async () => clusterKey.destroy());
  const selector = createExitSelector({ health: healthOptions(config.health) });
  // Client sessions and links draw their window growth from one budget (docs/mux.md).
  // Client sessions share one growth budget and links another, so clients cannot starve the
  // links of the windows they need toward distant exits.
  const clientBudget = new WindowBudget(config.limits.windowGrowthBudget);
  const linkBudget = new WindowBudget(config.limits.windowGrowthBudget);
  windowGrowthGauge(registry, 'handler', { clients: clientBudget, links: linkBudget });
  const clientWindows: WindowGrowth = {
    maxStreamWindow: config.limits.maxStreamWindow,
    maxSessionWindow: config.limits.maxSessionWindow,
    windowBudget: clientBudget,
  };
  const linkWindows: WindowGrowth = {
    maxStreamWindow: config.links.maxStreamWindow,
    maxSessionWindow: config.links.maxSessionWindow,
    windowBudget: linkBudget,
  };
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
    windows: linkWindows,
    ...(options.linkBackoff === undefined ? {} : { backoff: options.linkBackoff }),
  });
  links.setExits(view.exits.list());
  undo.push(() => links.close());
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
      windows: clientWindows,
    });
  } catch (err) {
    await unwind();
    throw err;
  }
  ledger.start();
  undo.push(() => ledger.stop());
  undo.push(() => gateway.close(0));

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
  undo.push(async () => unsubscribe());
  // The state may have changed between the pool's first exit list and the subscription (a
  // cluster's leader seeding, a follower catching up), so take the list once more.
  links.setExits(view.exits.list());

  let admin: HttpServer | undefined;
  if (config.admin.enabled) {
    const node = replicated?.node;
    const deps: ApiDeps = {
      // An injected store is applied as soon as it exists; Raft brings its own check.
      readiness: options.readiness ?? replicated?.readiness ?? (() => ({ ready: true })),
      logger,
      ...(config.metrics.enabled ? { metrics: { registry, path: config.metrics.path } } : {}),
      ...(config.admin.token === undefined
        ? {}
        : {
            admin: {
              token: config.admin.token.value,
              store,
              exitHealth: () => selector.snapshot(),
              ...(node === undefined ? {} : { cluster: node, control: node }),
            },
          }),
    };
    const app = createApiApp(deps);
    try {
      admin = await serve({ hostname: config.admin.host, port: config.admin.port, fetch: (req, info) => app.fetch(req, info) });
    } catch (err) {
      await unwind();
      throw err;
    }
  }

  logger.info(
    { port: gateway.port, address: gateway.address, ...(admin === undefined ? {} : { adminPort: admin.port }), crypto: clusterKey.backend.provider },
    'ready',
  );

  let closing: Promise<void> | undefined;
  let markDone!: (err: Error | null) => void;
  const done = new Promise<Error | null>((resolve) => (markDone = resolve));
  const close = (): Promise<void> => {
    closing ??= (async () => {
      // Clients and exits first, so the last usage batch still reaches Raft; then the node
      // (it flushes its WAL), then the keys.
      unsubscribe();
      await gateway.close(options.closeGraceMs ?? 2_000);
      await links.close();
      await ledger.stop();
      await admin?.close({ graceMs: 0 });
      await replicated?.close();
      clusterKey.destroy();
      logger.info('stopped');
    })().finally(() => markDone(fatal));
    return closing;
  };
  stopOnFatal = () => void close().catch((err: unknown) => logger.error({ err }, 'shutdown after a fatal Raft error failed'));
  if (fatal !== null) stopOnFatal();
  return {
    port: gateway.port,
    ...(admin === undefined ? {} : { adminPort: admin.port }),
    store,
    ...(replicated === undefined ? {} : { node: replicated.node }),
    selector,
    links,
    gateway,
    registry,
    done,
    close,
  };
}

/**
 * The client role: the local SOCKS5 + HTTP proxy over a pool of WSS + Noise IK sessions to
 * handlers (ARCHITECTURE 1). `startClient` is what `apfsds client` and `apfsds up` call.
 */
import type { Logger } from 'pino';
import type { ClientConfig } from '../shared/config/client.ts';
import { StaticKey } from '../shared/crypto/static-key.ts';
import { WindowBudget } from '../shared/mux/flow-window.ts';
import { createLogger } from '../shared/log.ts';
import { clientMetrics, windowGrowthGauge } from '../shared/metrics/catalog.ts';
import { Registry } from '../shared/metrics/registry.ts';
import type { HttpServer } from '../shared/runtime/http-server.ts';
import type { ClientTlsOptions } from '../shared/runtime/tls.ts';
import { hasCode, ErrorCode } from '../shared/errors.ts';
import type { ProxyContext } from './context.ts';
import { listenLocalProxy } from './local-proxy.ts';
import { createDialErrorLog } from './dial-error-log.ts';
import { createSessionDialer, describeDialError, urlOrigin } from './session-dialer.ts';
import { SessionPool } from './session-pool.ts';
import { serveClientStatus } from './status.ts';

/** Process-level services a role may be given (the all-in-one run shares them). */
export interface RoleOptions {
  /** Where the role logs; default a new logger from config.log. */
  logger?: Logger;
  /** Where the role declares its metrics; default a registry of its own. */
  registry?: Registry;
}

/** A running client. */
export interface RunningClient {
  /** The bound local proxy port (useful when config asked for port 0). */
  readonly port: number;
  /** The bound status port, when status.enabled. */
  readonly statusPort?: number;
  /** Handler sessions currently usable. */
  liveSessions(): number;
  /** Resolves true once a session is usable, false after `timeoutMs` or when closed. */
  waitForSession(timeoutMs: number): Promise<boolean>;
  /** Stops listening, closes app connections and sessions; resolves when all are down. */
  close(): Promise<void>;
}

function clientTls(config: ClientConfig): ClientTlsOptions {
  const tls: ClientTlsOptions = {};
  if (config.tls.caFile !== undefined) tls.caFile = config.tls.caFile;
  if (config.tls.pinSha256.length > 0) tls.pinSha256 = config.tls.pinSha256;
  return tls;
}

/**
 * Starts the client: binds the local proxy port, then dials `poolSize` sessions in the
 * background (apps that connect before a session is up wait up to openTimeout). Logs a
 * "ready" line with the port. Rejects with BAD_CONFIG when the port cannot be bound.
 */
export async function startClient(config: ClientConfig, options: RoleOptions = {}): Promise<RunningClient> {
  const logger = options.logger ?? createLogger({ role: 'client', level: config.log.level, format: config.log.format });
  const registry = options.registry ?? new Registry();
  const metrics = clientMetrics(registry);
  const windowBudget = new WindowBudget(config.limits.windowGrowthBudget);
  windowGrowthGauge(registry, 'client', { handlers: windowBudget });
  const staticKey = StaticKey.fromPrivate(config.key.privateKey.bytes);
  const dial = createSessionDialer({
    staticKey,
    clusterPublicKey: config.clusterPublicKey.bytes,
    tls: clientTls(config),
    region: config.region ?? '',
    handshakeTimeoutMs: config.handshakeTimeout,
    keepaliveIntervalMs: config.keepalive.interval,
    keepaliveTimeoutMs: config.keepalive.timeout,
    openTimeoutMs: config.openTimeout,
    // One growth budget across the client's sessions.
    windows: { maxStreamWindow: config.limits.maxStreamWindow, maxSessionWindow: config.limits.maxSessionWindow, windowBudget },
  });
  const dialErrors = createDialErrorLog(logger);
  const pool = new SessionPool({
    urls: config.handlers,
    size: config.poolSize,
    dial,
    backoff: { minMs: config.reconnect.min, maxMs: config.reconnect.max, jitter: config.reconnect.jitter },
    logger,
    onSessionCount: (n) => {
      metrics.sessionsActive.set(n);
      if (n > 0) dialErrors.reset();
    },
    onReconnect: () => metrics.reconnects.inc(),
    onDialError: (i, err) => {
      const origin = urlOrigin(config.handlers[i] ?? '');
      const fields = { handler: i, url: origin, code: (err as { code?: string }).code, stage: (err as { stage?: string }).stage };
      // A certificate problem will not heal by retrying: say so loudly.
      dialErrors.log(i, hasCode(err, ErrorCode.TLS_VERIFY) ? 'error' : 'warn', fields, describeDialError(err, origin));
    },
  });
  const auth = config.auth;
  const ctx: ProxyContext = {
    pool,
    users: auth === undefined ? [] : [{ username: auth.username, password: auth.password.value }],
    openTimeoutMs: config.openTimeout,
    udp: true,
    logger,
    metrics,
    bytesUp: metrics.bytes.labels({ direction: 'up' }),
    bytesDown: metrics.bytes.labels({ direction: 'down' }),
  };
  let listener;
  try {
    listener = await listenLocalProxy(config.listen, ctx);
  } catch (err) {
    staticKey.destroy();
    throw err;
  }
  let status: HttpServer | undefined;
  if (config.status.enabled) {
    try {
      status = await serveClientStatus(config.status.host, config.status.port, {
        registry,
        metricsPath: config.metrics.enabled ? config.metrics.path : null,
        liveSessions: () => pool.live.length,
      });
    } catch (err) {
      await listener.close();
      staticKey.destroy();
      throw err;
    }
  }
  pool.start();
  logger.info(
    {
      host: listener.address,
      port: listener.port,
      ...(status === undefined ? {} : { statusPort: status.port }),
      handlers: config.handlers.length,
      poolSize: config.poolSize,
      crypto: staticKey.backend.provider,
    },
    'ready',
  );
  let closing: Promise<void> | undefined;
  return {
    port: listener.port,
    ...(status === undefined ? {} : { statusPort: status.port }),
    liveSessions: () => pool.live.length,
    waitForSession: (timeoutMs) => pool.acquire({ signal: AbortSignal.timeout(timeoutMs) }).then(() => true, () => false),
    close(): Promise<void> {
      closing ??= (async () => {
        await listener.close();
        await pool.close();
        await status?.close({ graceMs: 0 });
        staticKey.destroy();
        logger.info('client stopped');
      })();
      return closing;
    },
  };
}

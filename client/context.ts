/**
 * What every local proxy connection handler needs: the session pool, the proxy credentials,
 * the open deadline, a logger and the client metrics. Built once by startClient().
 */
import type { Logger } from 'pino';
import type { ClientMetrics } from '../shared/metrics/catalog.ts';
import type { ProxyCredentials } from './proxy/auth.ts';
import type { SessionPool } from './session-pool.ts';

/** Time an app has to finish its SOCKS5 or HTTP proxy handshake before the connection is dropped. */
export const PROXY_HANDSHAKE_TIMEOUT_MS = 30_000;

/** Shared state of the local proxy. */
export interface ProxyContext {
  readonly pool: SessionPool;
  /** Accepted proxy credentials; empty = no authentication. */
  readonly users: readonly ProxyCredentials[];
  /** Budget for getting a session and the OPEN answer (config openTimeout). */
  readonly openTimeoutMs: number;
  /** Whether SOCKS5 UDP ASSOCIATE is served. */
  readonly udp: boolean;
  readonly logger: Logger;
  readonly metrics: ClientMetrics;
  /** Bound counter handles for the hot path: payload bytes toward the internet and the app. */
  readonly bytesUp: { inc(value?: number): void };
  readonly bytesDown: { inc(value?: number): void };
}

/** Counts one relayed stream in the metrics while `relay` runs. */
export async function countStream<T>(ctx: ProxyContext, relay: Promise<T>): Promise<T> {
  ctx.metrics.streamsActive.inc();
  try {
    return await relay;
  } finally {
    ctx.metrics.streamsActive.dec();
  }
}

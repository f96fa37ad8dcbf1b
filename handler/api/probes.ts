/**
 * Liveness, readiness and metrics (ARCHITECTURE 8). /health answers 200 while the process
 * serves HTTP at all; /ready answers 200 only when the injected check says the handler can
 * serve (Raft has a leader and the state is applied), else 503 with the reason; /metrics is
 * the Prometheus text exposition 0.0.4.
 */
import type { Hono } from 'hono';
import type { Logger } from '../../shared/log.ts';
import type { ApiDeps, Readiness } from './types.ts';

/** Registers /health, /ready and (when a registry is given) the metrics path. */
export function mountProbeRoutes(app: Hono, deps: ApiDeps, logger: Logger | undefined): void {
  app.get('/health', (c) => {
    c.header('Cache-Control', 'no-store');
    return c.json({ status: 'ok' });
  });

  app.get('/ready', async (c) => {
    c.header('Cache-Control', 'no-store');
    let r: Readiness;
    try {
      r = await deps.readiness();
    } catch (err) {
      logger?.warn({ err }, 'readiness check failed');
      r = { ready: false, reason: 'readiness check failed' };
    }
    return r.ready ? c.json({ ready: true }) : c.json({ ready: false, reason: r.reason }, 503);
  });

  const metrics = deps.metrics;
  if (metrics !== undefined) {
    app.get(metrics.path ?? '/metrics', (c) => {
      c.header('Content-Type', metrics.registry.contentType);
      c.header('Cache-Control', 'no-store');
      return c.body(metrics.registry.metrics());
    });
  }
}

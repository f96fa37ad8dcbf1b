/**
 * The client's optional status listener (config status.*, off by default): /health (the
 * process runs), /ready (at least one handler session is up) and the Prometheus metrics.
 */
import type { Registry } from '../shared/metrics/registry.ts';
import { serve, type HttpServer } from '../shared/runtime/http-server.ts';

/** What the status listener reports on. */
export interface StatusSource {
  readonly registry: Registry;
  /** Metrics path, or null when metrics are disabled. */
  readonly metricsPath: string | null;
  /** Handler sessions currently usable. */
  liveSessions(): number;
}

/** Serves /health, /ready and metrics on host:port (loopback by default). */
export function serveClientStatus(host: string, port: number, src: StatusSource): Promise<HttpServer> {
  return serve({
    hostname: host,
    port,
    fetch: (req) => {
      const path = new URL(req.url).pathname;
      if (req.method !== 'GET' && req.method !== 'HEAD') return new Response('method not allowed\n', { status: 405 });
      if (path === '/health') return new Response('ok\n');
      if (path === '/ready') {
        const n = src.liveSessions();
        return new Response(n > 0 ? `ready: ${n} session(s)\n` : 'not ready: no handler session\n', { status: n > 0 ? 200 : 503 });
      }
      if (src.metricsPath !== null && path === src.metricsPath) {
        return new Response(src.registry.metrics(), { headers: { 'content-type': src.registry.contentType } });
      }
      return new Response('not found\n', { status: 404 });
    },
  });
}

/**
 * The exit's status listener (config.status, loopback by default): /health is liveness,
 * /ready is 200 while at least one handler link is up (ARCHITECTURE 8), and config.metrics.path
 * serves the Prometheus registry. Never on the link listener, so probes of the public port
 * see nothing but the decoy.
 */
import type { Registry } from '../shared/metrics/registry.ts';
import { serve, type HttpServer } from '../shared/runtime/index.ts';

/** What the status listener needs. */
export interface StatusServerOptions {
  host: string;
  port: number;
  /** Metrics path, or null when metrics are disabled. */
  metricsPath: string | null;
  registry: Registry;
  /** Handler links up right now. */
  linksUp: () => number;
}

function text(status: number, body: string, contentType = 'text/plain; charset=utf-8'): Response {
  return new Response(body, { status, headers: { 'content-type': contentType, 'cache-control': 'no-store' } });
}

/** The status routes as a fetch handler (exported for tests). */
export function statusFetch(o: Omit<StatusServerOptions, 'host' | 'port'>): (req: Request) => Response {
  return (req) => {
    const { pathname } = new URL(req.url);
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, 'method not allowed\n');
    if (pathname === '/health') return text(200, 'ok\n');
    if (pathname === '/ready') {
      const n = o.linksUp();
      return n > 0 ? text(200, `ready: ${n} handler link(s)\n`) : text(503, 'not ready: no handler link\n');
    }
    if (o.metricsPath !== null && pathname === o.metricsPath) return text(200, o.registry.metrics(), o.registry.contentType);
    return text(404, 'not found\n');
  };
}

/** Starts the status listener; resolves once bound. */
export function startStatusServer(o: StatusServerOptions): Promise<HttpServer> {
  return serve({ hostname: o.host, port: o.port, fetch: statusFetch(o) });
}

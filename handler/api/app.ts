/**
 * The handler's HTTP API as a hono app: /health, /ready, /metrics and the admin API under
 * /admin/v1 (bearer token, ARCHITECTURE 7). Runtime-neutral: it only builds the app; the
 * caller serves it (shared/runtime) on the admin listener, localhost by default.
 */
import { Hono, type Context } from 'hono';
import { ErrorCode } from '../../shared/errors.ts';
import type { Logger } from '../../shared/log.ts';
import { DEFAULT_BODY_LIMIT, resolveAdmin } from './admin-context.ts';
import { bearerAuth } from './auth.ts';
import { mountClusterRoutes, mountStateRoutes } from './control.ts';
import { mountExitRoutes } from './exits.ts';
import { mountProbeRoutes } from './probes.ts';
import { ApiError, sendError } from './respond.ts';
import type { AdminDeps, ApiDeps } from './types.ts';
import { mountUserRoutes } from './users.ts';

/** Where the admin API lives. */
export const ADMIN_PREFIX = '/admin/v1';

function errorHandler(logger: Logger | undefined) {
  return (err: Error, c: Context): Response => {
    if (err instanceof ApiError) return sendError(c, err);
    logger?.error({ err, method: c.req.method, path: c.req.path }, 'admin API request failed');
    return sendError(c, new ApiError(500, ErrorCode.INTERNAL, 'Internal error'));
  };
}

const notFound = (c: Context): Response => sendError(c, new ApiError(404, ErrorCode.NOT_FOUND, 'No such endpoint'));

const authOf = (deps: AdminDeps) => bearerAuth({ token: deps.token, ...(deps.equals === undefined ? {} : { equals: deps.equals }) });

/** The admin routes alone, relative to /admin/v1, behind the bearer token. */
export function createAdminApp(deps: AdminDeps, logger?: Logger): Hono {
  const app = new Hono();
  app.use('*', authOf(deps));
  return adminRoutes(app, deps, logger);
}

/**
 * Bounds request bodies by their Content-Length before anything reads them. Admin clients send
 * JSON with a length, so a chunked body is refused (411) rather than read to find its size.
 * (hono's bodyLimit re-wraps the request, which fails under @hono/node-server without global
 * overrides, and it would answer a bodiless DELETE with 500.)
 */
function limitBody(maxSize: number) {
  return async (c: Context, next: () => Promise<void>): Promise<Response | void> => {
    if (c.req.header('transfer-encoding') !== undefined) {
      return sendError(c, new ApiError(411, ErrorCode.BAD_REQUEST, 'Request body must have a Content-Length, not chunked transfer encoding'));
    }
    const length = c.req.header('content-length');
    // Without Content-Length or chunking an HTTP/1.1 request has no body on the wire (RFC 9112
    // section 6.3), so reading it is bounded; in-process requests (app.request) land here too.
    const size = length !== undefined ? Number(length) : c.req.raw.body === null ? 0 : (await c.req.arrayBuffer()).byteLength;
    if (!(size <= maxSize)) {
      return sendError(c, new ApiError(413, ErrorCode.BAD_REQUEST, `Request body is larger than ${maxSize} bytes`));
    }
    await next();
  };
}

function adminRoutes(app: Hono, deps: AdminDeps, logger: Logger | undefined): Hono {
  const ctx = resolveAdmin(deps, logger);
  const maxSize = deps.bodyLimit ?? DEFAULT_BODY_LIMIT;
  app.use('*', limitBody(maxSize));
  // Answers are state, keys and operator data: never cached by anything in between.
  app.use('*', async (c, next) => {
    await next();
    c.header('Cache-Control', 'no-store');
  });
  mountUserRoutes(app, ctx);
  mountExitRoutes(app, ctx);
  mountStateRoutes(app, ctx);
  mountClusterRoutes(app, ctx);
  app.notFound(notFound);
  app.onError(errorHandler(logger));
  return app;
}

/** The whole API: probes, metrics and (when configured) the admin routes. */
export function createApiApp(deps: ApiDeps): Hono {
  const app = new Hono();
  mountProbeRoutes(app, deps, deps.logger);
  if (deps.admin !== undefined) {
    // Checked on every /admin path, known or not, so the route list does not leak to strangers.
    app.use('/admin/*', authOf(deps.admin));
    app.route(ADMIN_PREFIX, adminRoutes(new Hono(), deps.admin, deps.logger));
  }
  app.notFound(notFound);
  app.onError(errorHandler(deps.logger));
  return app;
}

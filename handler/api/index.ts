/** The handler's HTTP API: probes, metrics and the admin API (hono, runtime-neutral). */
export * from './types.ts';
export * from './app.ts';
export * from './auth.ts';
export * from './readiness.ts';
export { ApiError, statusOf, type ErrorBody } from './respond.ts';
export { DEFAULT_ADMIN_TIMEOUT_MS, DEFAULT_BODY_LIMIT, randomKeyPair } from './admin-context.ts';

/**
 * Request plumbing shared by the admin routes: body and query validation, path ids, deadlines,
 * fresh reads and proposals. Each helper throws an ApiError the app answers as JSON.
 */
import type { Context } from 'hono';
import type { z } from 'zod';
import { ErrorCode, type ErrorCodeValue } from '../../shared/errors.ts';
import type { Command } from '../state/commands.ts';
import type { StateStore } from '../state/store.ts';
import { ApiError, expectApplied, fromZodError, statusOf } from './respond.ts';
import { PathId } from './schemas.ts';

/** Parses the JSON body against a schema; 400 naming the field otherwise. */
export async function parseBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  const text = await c.req.text();
  let value: unknown;
  try {
    value = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw new ApiError(400, ErrorCode.BAD_REQUEST, 'Request body must be JSON');
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw fromZodError(parsed.error, 'body');
  return parsed.data;
}

/** Parses the query string against a schema; 400 naming the parameter otherwise. */
export function parseQuery<S extends z.ZodType>(c: Context, schema: S): z.output<S> {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) throw fromZodError(parsed.error, 'query');
  return parsed.data;
}

/** A path parameter that must be an id (user, exit or node). */
export function pathId(c: Context, name = 'id'): string {
  const value = c.req.param(name) ?? '';
  if (!PathId.safeParse(value).success) {
    throw new ApiError(400, ErrorCode.BAD_REQUEST, `Path parameter ${name} is not a valid id`, name);
  }
  return value;
}

/** The request's abort signal bounded by the operation deadline. */
export function deadline(c: Context, timeoutMs: number): AbortSignal {
  return AbortSignal.any([c.req.raw.signal, AbortSignal.timeout(timeoutMs)]);
}

function codeOf(err: unknown): ErrorCodeValue | undefined {
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' && code.startsWith('APFSDS_ERR_') ? (code as ErrorCodeValue) : undefined;
}

/**
 * Converts a coded rejection from the store or the cluster (NOT_LEADER, TIMEOUT...) into an
 * ApiError; anything else (a bug) is rethrown for the generic 500. A deadline that fired
 * (DOMException TimeoutError) becomes TIMEOUT.
 */
export function rethrowCoded(err: unknown): never {
  if (err instanceof ApiError) throw err;
  if (err instanceof Error && err.name === 'TimeoutError') {
    throw new ApiError(503, ErrorCode.TIMEOUT, 'The operation did not finish before its deadline');
  }
  const code = codeOf(err);
  if (code !== undefined && statusOf(code) !== 500) throw new ApiError(statusOf(code), code, (err as Error).message);
  throw err;
}

/** Waits for a linearizable read point (ReadIndex) unless the caller accepts stale data. */
export async function freshRead(store: StateStore, stale: string | undefined, signal: AbortSignal): Promise<void> {
  if (stale === '1' || stale === 'true') return;
  try {
    await store.read(signal);
  } catch (err) {
    rethrowCoded(err);
  }
}

/** Proposes a command and waits until it is applied; throws the matching ApiError if refused. */
export async function proposeApplied(store: StateStore, command: Command, signal: AbortSignal): Promise<void> {
  let result;
  try {
    result = await store.propose(command, signal);
  } catch (err) {
    rethrowCoded(err);
  }
  expectApplied(result);
}

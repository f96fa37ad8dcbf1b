/**
 * /admin/v1/exits: list (with live health from the router when available), get, create,
 * update (weight, state active/draining/disabled, url...) and delete. A change reaches the
 * router through the state's exitChanged event on every handler.
 */
import type { Hono } from 'hono';
import { ErrorCode } from '../../shared/errors.ts';
import type { ExitRecord } from '../state/types.ts';
import type { AdminContext } from './admin-context.ts';
import { deadline, freshRead, parseBody, parseQuery, pathId, proposeApplied } from './request.ts';
import { ApiError } from './respond.ts';
import { CreateExitBody, ReadQuery, UpdateExitBody } from './schemas.ts';

function withHealth(ctx: AdminContext, exits: readonly ExitRecord[]) {
  const health = new Map((ctx.exitHealth?.() ?? []).map((s) => [s.id, s.health]));
  return exits.map((e) => ({ ...e, health: health.get(e.id) ?? null }));
}

function mustGetExit(ctx: AdminContext, id: string): ExitRecord {
  const exit = ctx.view.exits.get(id);
  if (exit === undefined) throw new ApiError(404, ErrorCode.NOT_FOUND, `Exit "${id}" does not exist`, 'id');
  return exit;
}

/** Registers the exit routes on the admin app. */
export function mountExitRoutes(app: Hono, ctx: AdminContext): void {
  const { store, view } = ctx;

  app.get('/exits', async (c) => {
    const q = parseQuery(c, ReadQuery);
    await freshRead(store, q.stale, deadline(c, ctx.timeoutMs));
    return c.json({ exits: withHealth(ctx, view.exits.list()) });
  });

  app.get('/exits/:id', async (c) => {
    const id = pathId(c);
    const q = parseQuery(c, ReadQuery);
    await freshRead(store, q.stale, deadline(c, ctx.timeoutMs));
    return c.json({ exit: withHealth(ctx, [mustGetExit(ctx, id)])[0] });
  });

  app.post('/exits', async (c) => {
    const body = await parseBody(c, CreateExitBody);
    await proposeApplied(store, { v: 1, op: 'exit.create', ...body }, deadline(c, ctx.timeoutMs));
    ctx.audit('exit.create', { exit: body.id });
    return c.json({ exit: mustGetExit(ctx, body.id) }, 201);
  });

  app.patch('/exits/:id', async (c) => {
    const id = pathId(c);
    const body = await parseBody(c, UpdateExitBody);
    await proposeApplied(store, { v: 1, op: 'exit.update', id, ...body }, deadline(c, ctx.timeoutMs));
    ctx.audit('exit.update', { exit: id, fields: Object.keys(body).join(',') });
    return c.json({ exit: mustGetExit(ctx, id) });
  });

  app.delete('/exits/:id', async (c) => {
    const id = pathId(c);
    await proposeApplied(store, { v: 1, op: 'exit.delete', id }, deadline(c, ctx.timeoutMs));
    ctx.audit('exit.delete', { exit: id });
    return c.body(null, 204);
  });
}

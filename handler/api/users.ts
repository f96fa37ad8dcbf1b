/**
 * /admin/v1/users: list, get, create (optionally generating the key pair), update, disable,
 * enable, delete, and per-user usage. Writes go through the store's propose(); reads wait for
 * a ReadIndex point first unless ?stale=true.
 */
import type { Hono } from 'hono';
import { encodeBase64Url } from '../../shared/config/base64url.ts';
import { ErrorCode } from '../../shared/errors.ts';
import type { UsageRecord, UserRecord } from '../state/types.ts';
import { pageSize } from '../state/views.ts';
import type { AdminContext } from './admin-context.ts';
import { deadline, freshRead, parseBody, parseQuery, pathId, proposeApplied } from './request.ts';
import { ApiError } from './respond.ts';
import { CreateUserBody, PageQuery, ReadQuery, UpdateUserBody } from './schemas.ts';

/** The paging cursor after a page: the last id when the page is full, else null. */
export function nextCursor<T>(page: readonly T[], limit: number, idOf: (item: T) => string): string | null {
  return page.length === limit && page.length > 0 ? idOf(page[page.length - 1]!) : null;
}

/** Usage of a user as the API shows it. */
export function usageView(user: UserRecord, counters: UsageRecord | undefined) {
  return {
    userId: user.id,
    up: counters?.up ?? 0,
    down: counters?.down ?? 0,
    used: user.used,
    quota: user.quota,
    remaining: user.quota === null ? null : Math.max(0, user.quota - user.used),
  };
}

function mustGetUser(ctx: AdminContext, id: string): UserRecord {
  const user = ctx.view.users.get(id);
  if (user === undefined) throw new ApiError(404, ErrorCode.NOT_FOUND, `User "${id}" does not exist`, 'id');
  return user;
}

/** Registers the user routes on the admin app. */
export function mountUserRoutes(app: Hono, ctx: AdminContext): void {
  const { store, view } = ctx;

  app.get('/users', async (c) => {
    const q = parseQuery(c, PageQuery);
    await freshRead(store, q.stale, deadline(c, ctx.timeoutMs));
    const limit = pageSize(q.limit);
    const users = view.users.list({ limit, ...(q.after === undefined ? {} : { after: q.after }) });
    return c.json({ users, next: nextCursor(users, limit, (u) => u.id) });
  });

  app.get('/users/:id', async (c) => {
    const id = pathId(c);
    const q = parseQuery(c, ReadQuery);
    await freshRead(store, q.stale, deadline(c, ctx.timeoutMs));
    return c.json({ user: mustGetUser(ctx, id) });
  });

  app.post('/users', async (c) => {
    const body = await parseBody(c, CreateUserBody);
    let publicKey = body.publicKey;
    let privateKey: string | undefined;
    if (publicKey === undefined) {
      const pair = ctx.generateKeyPair();
      publicKey = encodeBase64Url(pair.publicKey);
      privateKey = encodeBase64Url(pair.privateKey);
      pair.privateKey.fill(0);
    }
    await proposeApplied(store, { v: 1, op: 'user.create', ...body, publicKey }, deadline(c, ctx.timeoutMs));
    ctx.audit('user.create', { user: body.id, generatedKey: privateKey !== undefined });
    // The private key is shown once; keep it out of every cache.
    c.header('Cache-Control', 'no-store');
    return c.json({ user: mustGetUser(ctx, body.id), ...(privateKey === undefined ? {} : { privateKey }) }, 201);
  });

  app.patch('/users/:id', async (c) => {
    const id = pathId(c);
    const body = await parseBody(c, UpdateUserBody);
    await proposeApplied(store, { v: 1, op: 'user.update', id, ...body }, deadline(c, ctx.timeoutMs));
    ctx.audit('user.update', { user: id, fields: Object.keys(body).join(',') });
    return c.json({ user: mustGetUser(ctx, id) });
  });

  for (const [action, status] of [
    ['disable', 'disabled'],
    ['enable', 'active'],
  ] as const) {
    app.post(`/users/:id/${action}`, async (c) => {
      const id = pathId(c);
      await proposeApplied(store, { v: 1, op: 'user.update', id, status }, deadline(c, ctx.timeoutMs));
      ctx.audit(`user.${action}`, { user: id });
      return c.json({ user: mustGetUser(ctx, id) });
    });
  }

  app.delete('/users/:id', async (c) => {
    const id = pathId(c);
    await proposeApplied(store, { v: 1, op: 'user.delete', id }, deadline(c, ctx.timeoutMs));
    ctx.audit('user.delete', { user: id });
    return c.body(null, 204);
  });

  app.get('/users/:id/usage', async (c) => {
    const id = pathId(c);
    const q = parseQuery(c, ReadQuery);
    await freshRead(store, q.stale, deadline(c, ctx.timeoutMs));
    const user = mustGetUser(ctx, id);
    return c.json({ usage: usageView(user, view.users.usage(id)) });
  });

  app.post('/users/:id/usage/reset', async (c) => {
    const id = pathId(c);
    await proposeApplied(store, { v: 1, op: 'usage.reset', userId: id }, deadline(c, ctx.timeoutMs));
    ctx.audit('usage.reset', { user: id });
    const user = mustGetUser(ctx, id);
    return c.json({ usage: usageView(user, view.users.usage(id)) });
  });
}

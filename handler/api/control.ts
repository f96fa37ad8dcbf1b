/**
 * Cluster-wide admin routes: usage across users, settings, key revocations, and the Raft
 * cluster's status, membership and leadership (delegated to the injected ClusterControl).
 */
import type { Hono } from 'hono';
import { ErrorCode } from '../../shared/errors.ts';
import { decodeKeyText } from '../../shared/config/keys.ts';
import { encodeBase64Url } from '../../shared/config/base64url.ts';
import { pageSize } from '../state/views.ts';
import type { AdminContext } from './admin-context.ts';
import { deadline, freshRead, parseBody, parseQuery, pathId, proposeApplied, rethrowCoded } from './request.ts';
import { ApiError } from './respond.ts';
import { MemberBody, PageQuery, ReadQuery, RevokeBody, SettingsBody, TransferBody } from './schemas.ts';
import { nextCursor, usageView } from './users.ts';
import type { ClusterControl } from './types.ts';

function pathKey(raw: string | undefined): string {
  const bytes = decodeKeyText(raw ?? '');
  if (typeof bytes === 'string') throw new ApiError(400, ErrorCode.BAD_REQUEST, `Path parameter publicKey: ${bytes}`, 'publicKey');
  return encodeBase64Url(bytes);
}

/** Registers usage, settings and revocation routes. */
export function mountStateRoutes(app: Hono, ctx: AdminContext): void {
  const { store, view } = ctx;

  app.get('/usage', async (c) => {
    const q = parseQuery(c, PageQuery);
    await freshRead(store, q.stale, deadline(c, ctx.timeoutMs));
    const limit = pageSize(q.limit);
    const users = view.users.list({ limit, ...(q.after === undefined ? {} : { after: q.after }) });
    return c.json({
      usage: users.map((u) => usageView(u, view.users.usage(u.id))),
      next: nextCursor(users, limit, (u) => u.id),
      watermarks: Object.fromEntries(view.usageWatermarks()),
    });
  });

  app.get('/settings', async (c) => {
    const q = parseQuery(c, ReadQuery);
    await freshRead(store, q.stale, deadline(c, ctx.timeoutMs));
    return c.json({ settings: view.settings() });
  });

  app.patch('/settings', async (c) => {
    const body = await parseBody(c, SettingsBody);
    await proposeApplied(store, { v: 1, op: 'settings.update', ...body }, deadline(c, ctx.timeoutMs));
    ctx.audit('settings.update', { fields: Object.keys(body).join(',') });
    return c.json({ settings: view.settings() });
  });

  app.get('/revocations', async (c) => {
    const q = parseQuery(c, PageQuery);
    await freshRead(store, q.stale, deadline(c, ctx.timeoutMs));
    const limit = pageSize(q.limit);
    const revocations = view.revocations({ limit, ...(q.after === undefined ? {} : { after: q.after }) });
    return c.json({ revocations, next: nextCursor(revocations, limit, (r) => r.publicKey) });
  });

  app.post('/revocations', async (c) => {
    const body = await parseBody(c, RevokeBody);
    // Looked up first: once revoked, the key no longer resolves to its user.
    const holder = view.users.byPublicKey(body.publicKey)?.id;
    await proposeApplied(store, { v: 1, op: 'key.revoke', ...body }, deadline(c, ctx.timeoutMs));
    ctx.audit('key.revoke', holder === undefined ? {} : { user: holder });
    return c.json({ revocation: { publicKey: body.publicKey, reason: body.reason ?? '' } }, 201);
  });

  app.delete('/revocations/:publicKey', async (c) => {
    const publicKey = pathKey(c.req.param('publicKey'));
    await proposeApplied(store, { v: 1, op: 'key.unrevoke', publicKey }, deadline(c, ctx.timeoutMs));
    ctx.audit('key.unrevoke', {});
    return c.body(null, 204);
  });
}

/** Registers the Raft cluster routes. */
export function mountClusterRoutes(app: Hono, ctx: AdminContext): void {
  const needControl = (): ClusterControl => {
    if (ctx.control === undefined) throw new ApiError(501, ErrorCode.UNSUPPORTED, 'Cluster membership control is not available on this handler');
    return ctx.control;
  };
  const run = async (op: () => Promise<void>): Promise<void> => {
    try {
      await op();
    } catch (err) {
      rethrowCoded(err);
    }
  };

  app.get('/cluster', async (c) => {
    if (ctx.cluster === undefined) throw new ApiError(501, ErrorCode.UNSUPPORTED, 'Cluster status is not available on this handler');
    const provider = ctx.cluster;
    let status;
    try {
      status = await provider.status();
    } catch (err) {
      rethrowCoded(err);
    }
    return c.json({ cluster: status });
  });

  app.post('/cluster/members', async (c) => {
    const control = needControl();
    const body = await parseBody(c, MemberBody);
    const member = { id: body.id, url: body.url };
    const signal = deadline(c, ctx.timeoutMs);
    await run(() => (body.learner === true ? control.addLearner(member, signal) : control.addMember(member, signal)));
    ctx.audit(body.learner === true ? 'cluster.addLearner' : 'cluster.addMember', { node: body.id });
    return c.json({ ok: true }, 200);
  });

  app.post('/cluster/members/:id/promote', async (c) => {
    const control = needControl();
    const id = pathId(c);
    const signal = deadline(c, ctx.timeoutMs);
    await run(() => control.promoteLearner(id, signal));
    ctx.audit('cluster.promoteLearner', { node: id });
    return c.json({ ok: true });
  });

  app.delete('/cluster/members/:id', async (c) => {
    const control = needControl();
    const id = pathId(c);
    const signal = deadline(c, ctx.timeoutMs);
    await run(() => control.removeMember(id, signal));
    ctx.audit('cluster.removeMember', { node: id });
    return c.json({ ok: true });
  });

  app.post('/cluster/transfer-leadership', async (c) => {
    const control = needControl();
    const body = await parseBody(c, TransferBody);
    const signal = deadline(c, ctx.timeoutMs);
    await run(() => control.transferLeadership(body.to, signal));
    ctx.audit('cluster.transferLeadership', body.to === undefined ? {} : { node: body.to });
    return c.json({ ok: true });
  });
}

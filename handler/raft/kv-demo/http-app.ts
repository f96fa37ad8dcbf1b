/**
 * The demo node's HTTP API (tests and benchmarks only; binds 127.0.0.1):
 *
 *   GET    /status                      stats and cluster status of this node
 *   PUT    /kv/:key         body=value   put; {index, size, us} once applied here
 *   POST   /kv/:key?op=append body       append
 *   DELETE /kv/:key                      delete
 *   GET    /kv/:key[?stale=1]            the value after a ReadIndex barrier (404 if absent)
 *   GET    /dump?prefix=P[&stale=1]      {appliedIndex, values: {key: value}} after a barrier
 *   POST   /batch {ops:[{op,key,value}]} each op proposed on its own; per-op results with
 *                                        the propose-to-apply latency in microseconds
 *   POST   /members {id,url,learner?} | POST /members/:id/promote | DELETE /members/:id
 *   POST   /transfer {to?}
 *
 * Failures answer JSON {error:{code,message,leaderId?,leaderUrl?}}: 503 for NOT_LEADER,
 * TIMEOUT and other retryable codes, 400 for a bad request, 404 NOT_FOUND, 409 rejected changes.
 */
import { ErrorCode } from '../../../shared/errors.ts';
import type { RaftNode } from '../driver/node.ts';
import { encodeKvCommand, KvOp, type KvMachine, type KvResult } from './kv-machine.ts';

/** What the app serves from. */
export interface KvAppDeps {
  node: RaftNode<KvResult>;
  machine: KvMachine;
  /** Deadline of each operation in ms (default 5000). */
  timeoutMs?: number;
}

const utf8 = new TextEncoder();
const text = new TextDecoder();

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

function statusOfCode(code: string | undefined): number {
  switch (code) {
    case ErrorCode.BAD_REQUEST:
    case ErrorCode.BAD_CONFIG:
    case ErrorCode.BAD_COMMAND:
      return 400;
    case ErrorCode.NOT_FOUND:
      return 404;
    case ErrorCode.CONF_CHANGE_REJECTED:
    case ErrorCode.TRANSFER_REJECTED:
      return 409;
    default:
      return 503;
  }
}

function errorBody(err: unknown): { code: string; message: string; leaderId?: string | null; leaderUrl?: string | null } {
  const e = err as { code?: string; message?: string; leaderId?: string | null; leaderUrl?: string | null };
  return {
    code: e.code ?? ErrorCode.INTERNAL,
    message: e.message ?? String(err),
    ...(e.leaderId === undefined ? {} : { leaderId: e.leaderId, leaderUrl: e.leaderUrl ?? null }),
  };
}

function failure(err: unknown): Response {
  const body = errorBody(err);
  return json({ error: body }, statusOfCode(body.code));
}

function badRequest(message: string): Response {
  return json({ error: { code: ErrorCode.BAD_REQUEST, message } }, 400);
}

/** Builds the fetch handler. */
export function createKvApp(deps: KvAppDeps): (req: Request) => Promise<Response> {
  const { node, machine } = deps;
  const timeoutMs = deps.timeoutMs ?? 5000;

  async function propose(op: KvOp, key: string, value: Uint8Array, signal = AbortSignal.timeout(timeoutMs)): Promise<{ result: KvResult; us: number }> {
    const started = performance.now();
    const result = await node.propose(encodeKvCommand(op, key, value), signal);
    return { result, us: Math.round((performance.now() - started) * 1000) };
  }

  async function batch(req: Request): Promise<Response> {
    let body: { ops?: Array<{ op?: string; key?: string; value?: string }> };
    try {
      body = (await req.json()) as typeof body;
    } catch {
      return badRequest('Body must be JSON {ops:[...]}');
    }
    const ops = body.ops;
    if (!Array.isArray(ops) || ops.length > 10_000) return badRequest('ops must be an array of at most 10000 operations');
    // One deadline for the whole batch: a timer per operation would cost more than the write.
    const signal = AbortSignal.timeout(timeoutMs);
    const results = await Promise.all(
      ops.map(async (o) => {
        const op = o.op === 'append' ? KvOp.Append : o.op === 'delete' ? KvOp.Delete : KvOp.Put;
        try {
          const { result, us } = await propose(op, String(o.key ?? ''), utf8.encode(String(o.value ?? '')), signal);
          return { ok: result.ok, index: result.index, size: result.size, us };
        } catch (err) {
          return { ok: false, error: errorBody(err) };
        }
      }),
    );
    return json({ results });
  }

  async function members(req: Request, parts: string[]): Promise<Response> {
    const signal = AbortSignal.timeout(timeoutMs);
    if (req.method === 'POST' && parts.length === 1) {
      const b = (await req.json()) as { id?: string; url?: string; learner?: boolean };
      const m = { id: String(b.id ?? ''), url: String(b.url ?? '') };
      await (b.learner === true ? node.addLearner(m, signal) : node.addMember(m, signal));
      return json({ ok: true });
    }
    if (req.method === 'POST' && parts.length === 3 && parts[2] === 'promote') {
      await node.promoteLearner(parts[1]!, signal);
      return json({ ok: true });
    }
    if (req.method === 'DELETE' && parts.length === 2) {
      await node.removeMember(parts[1]!, signal);
      return json({ ok: true });
    }
    return json({ error: { code: ErrorCode.NOT_FOUND, message: 'No such route' } }, 404);
  }

  return async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const parts = url.pathname.split('/').filter((p) => p !== '').map(decodeURIComponent);
    const stale = url.searchParams.get('stale') === '1';
    try {
      if (parts[0] === 'status' && req.method === 'GET') return json({ stats: node.stats(), cluster: node.status() });
      if (parts[0] === 'kv' && parts.length === 2) {
        const key = parts[1]!;
        if (req.method === 'GET') {
          if (!stale) await node.read(AbortSignal.timeout(timeoutMs));
          const v = machine.get(key);
          return v === undefined ? json({ error: { code: ErrorCode.NOT_FOUND, message: `No key ${key}` } }, 404) : new Response(v.slice());
        }
        const value = new Uint8Array(await req.arrayBuffer());
        const op = req.method === 'DELETE' ? KvOp.Delete : url.searchParams.get('op') === 'append' ? KvOp.Append : KvOp.Put;
        if (req.method !== 'PUT' && req.method !== 'POST' && req.method !== 'DELETE') return badRequest(`Method ${req.method} not allowed`);
        const { result, us } = await propose(op, key, value);
        return json({ ok: result.ok, index: result.index, size: result.size, us });
      }
      if (parts[0] === 'dump' && req.method === 'GET') {
        if (!stale) await node.read(AbortSignal.timeout(timeoutMs));
        const values: Record<string, string> = {};
        for (const k of machine.keys(url.searchParams.get('prefix') ?? '')) values[k] = text.decode(machine.get(k));
        return json({ appliedIndex: node.stats().appliedIndex, values });
      }
      if (parts[0] === 'batch' && req.method === 'POST') return await batch(req);
      if (parts[0] === 'members') return await members(req, parts);
      if (parts[0] === 'transfer' && req.method === 'POST') {
        const b = (await req.json().catch(() => ({}))) as { to?: string };
        await node.transferLeadership(b.to, AbortSignal.timeout(timeoutMs));
        return json({ ok: true });
      }
      return json({ error: { code: ErrorCode.NOT_FOUND, message: 'No such route' } }, 404);
    } catch (err) {
      return failure(err);
    }
  };
}

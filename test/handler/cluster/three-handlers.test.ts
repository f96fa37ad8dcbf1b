/**
 * Three startHandler instances in one process forming a Raft cluster from their configs
 * (raft.peers with ws://127.0.0.1 URLs, one shared cluster key): readiness follows the leader,
 * admin writes on any handler are replicated (a follower forwards them), and a user disabled
 * through one handler loses its session on another. Every wait is bounded; nothing is timed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHandler, type RunningHandler } from '../../../handler/main.ts';
import { freePorts } from '../../support/e2e/ports.ts';
import { connectClient, eventually, handlerConfig, quietLogger, testKey, userEntry, within } from '../gateway/harness.ts';

const TOKEN = 'three-handlers-admin-token-01';
const IDS = ['h1', 'h2', 'h3'] as const;

type Cluster = { leader: string | null; role: string; term: number; members: Array<{ id: string; url: string | null; suffrage: string }> };

async function admin(h: RunningHandler, path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`http://127.0.0.1:${h.adminPort!}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...(init.headers ?? {}) },
  });
}

async function clusterOf(h: RunningHandler): Promise<Cluster> {
  const res = await admin(h, '/admin/v1/cluster');
  assert.equal(res.status, 200);
  return ((await res.json()) as { cluster: Cluster }).cluster;
}

/** Polls an async condition every 50 ms, at most `ms`. */
async function until(what: string, ms: number, test: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await test()) return;
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('three handlers form one Raft cluster from their configs', () => {
  const root = mkdtempSync(join(tmpdir(), 'apfsds-three-handlers-'));
  let ports: number[] = [];
  let peers: Array<{ id: string; url: string }> = [];
  before(async () => {
    ports = await freePorts(3);
    peers = IDS.map((id, i) => ({ id, url: `ws://127.0.0.1:${ports[i]!}/raft` }));
  });
  const alice = testKey();
  const handlers = new Map<string, RunningHandler>();

  const start = async (i: number): Promise<RunningHandler> => {
    const id = IDS[i]!;
    const config = handlerConfig({
      nodeId: id,
      admin: { enabled: true, host: '127.0.0.1', port: 0, token: TOKEN },
      users: [userEntry('alice', alice)],
      raft: { dataDir: join(root, id), listen: { host: '127.0.0.1', port: ports[i]! }, peers, tickInterval: 20, electionTicks: 10 },
    });
    const h = await startHandler(config, { logger: quietLogger, closeGraceMs: 200 });
    handlers.set(id, h);
    return h;
  };
  const all = (): RunningHandler[] => IDS.map((id) => handlers.get(id)!);
  const leaderAndFollowers = async (): Promise<{ leader: RunningHandler; followers: RunningHandler[] }> => {
    const statuses = await Promise.all(all().map(clusterOf));
    const lead = statuses.find((s) => s.role === 'leader');
    assert.ok(lead !== undefined, 'a leader');
    const leaderId = lead.leader!;
    return { leader: handlers.get(leaderId)!, followers: IDS.filter((id) => id !== leaderId).map((id) => handlers.get(id)!) };
  };

  after(async () => {
    for (const h of handlers.values()) await h.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('answers /ready with 503 while no leader can exist, and 200 on all three once one is elected', async () => {
    const first = await start(0);
    // One of three founding voters cannot win an election alone: there is no leader to be had.
    const early = await fetch(`http://127.0.0.1:${first.adminPort!}/ready`);
    assert.equal(early.status, 503);
    assert.deepEqual(await early.json(), { ready: false, reason: 'no raft leader' });
    assert.equal((await clusterOf(first)).leader, null);

    await start(1);
    await start(2);
    for (const h of all()) {
      await until(`${h.node!.id} ready`, 20_000, async () => (await fetch(`http://127.0.0.1:${h.adminPort!}/ready`)).status === 200);
      assert.notEqual((await clusterOf(h)).leader, null, 'ready only with a known leader');
    }
  });

  it('shows three voting members and one leader on every handler', async () => {
    await until('all three to agree on the leader', 20_000, async () => {
      const statuses = await Promise.all(all().map(clusterOf));
      const leaders = new Set(statuses.map((s) => s.leader));
      return leaders.size === 1 && !leaders.has(null) && statuses.filter((s) => s.role === 'leader').length === 1;
    });
    for (const h of all()) {
      const c = await clusterOf(h);
      assert.deepEqual(
        c.members.map((m) => [m.id, m.suffrage, m.url]).sort(),
        peers.map((p) => [p.id, 'voter', p.url]),
      );
    }
  });

  it('replicates a user created through one handler to the others (fresh reads)', async () => {
    const { followers } = await leaderAndFollowers();
    const via = followers[0]!;
    // Created on a follower: the write is forwarded to the leader and answered once applied here.
    const created = await admin(via, '/admin/v1/users', { method: 'POST', body: JSON.stringify({ id: 'bob', publicKey: testKey().publicText }) });
    assert.equal(created.status, 201);
    const { user } = (await created.json()) as { user: { id: string; publicKey: string } };
    for (const h of all()) {
      const res = await admin(h, '/admin/v1/users/bob');
      assert.equal(res.status, 200, `GET on ${h.node!.id}`);
      assert.deepEqual(((await res.json()) as { user: { publicKey: string } }).user.publicKey, user.publicKey);
    }
  });

  it("closes a user's session on one handler when a follower's admin API disables it", async () => {
    const { followers } = await leaderAndFollowers();
    const via = followers[0]!;
    // The session lives on a handler other than the one that takes the admin request.
    const host = all().find((h) => h !== via)!;
    // The seed (proposed by the first leader) must have reached that handler.
    await eventually(() => host.store.view.users.get('alice')?.status === 'active', 10_000, 'alice seeded');
    const client = await connectClient(host.port, alice);
    await eventually(() => host.gateway.sessionsOf('alice') === 1, 5_000, 'alice connected');

    const res = await admin(via, '/admin/v1/users/alice/disable', { method: 'POST' });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { user: { status: string } }).user.status, 'disabled');
    await within(client.session.closed, 10_000, "alice's session closed");
    await eventually(() => host.gateway.sessionsOf('alice') === 0, 5_000, 'no alice session left');
    for (const h of all()) await eventually(() => h.store.view.users.get('alice')?.status === 'disabled', 5_000, 'disabled everywhere');
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createLogger } from '../../../shared/log.ts';
import { startHandler } from '../../../handler/main.ts';
import { LocalStateStore } from '../../../handler/state/store.ts';
import { connectClient, exitEntry, handlerConfig, pattern, quietLogger, roundTrip, sha, startFakeExit, testKey, userEntry, within } from '../gateway/harness.ts';

const TOKEN = 'handler-admin-token-for-tests';
const auth = { authorization: `Bearer ${TOKEN}` };
const adminOn = { enabled: true, host: '127.0.0.1', port: 0, token: TOKEN };

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

describe('startHandler', () => {
  it('logs ready with its ports, serves /health, /ready, /metrics and the admin API, and frees both ports on close()', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const logger = createLogger({ role: 'handler', node: 'h1', level: 'info', format: 'json', destination: { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) } });
    const user = testKey();
    const exit = await startFakeExit('x1', 'eu');
    const handler = await startHandler(
      handlerConfig({ users: [userEntry('alice', user)], exits: [exitEntry(exit, { weight: 3 })], admin: { enabled: true, host: '127.0.0.1', port: 0, token: TOKEN } }),
      { logger },
    );
    try {
      const ready = lines.find((l) => l['msg'] === 'ready');
      assert.ok(ready !== undefined);
      assert.equal(ready['role'], 'handler');
      assert.equal(ready['port'], handler.port);
      assert.equal(ready['adminPort'], handler.adminPort);
      // The native backend with libsodium: the addon loads on Node and Deno here.
      assert.equal(ready['crypto'], 'libsodium + node:crypto');
      const admin = `http://127.0.0.1:${handler.adminPort}`;
      assert.deepEqual(await (await fetch(`${admin}/health`)).json(), { status: 'ok' });
      assert.deepEqual(await (await fetch(`${admin}/ready`)).json(), { ready: true });

      await within(handler.links.when(() => handler.links.linkCount('x1') > 0), 5000, 'link');
      const client = await connectClient(handler.port, user);
      const data = pattern(100_000);
      assert.equal(sha(await roundTrip(client.session, data)), sha(data));

      const metrics = await (await fetch(`${admin}/metrics`)).text();
      assert.match(metrics, /apfsds_handler_sessions_active 1\b/);
      assert.match(metrics, /apfsds_handler_exit_selections_total\{exit="x1"\} 1\b/);
      assert.match(metrics, /apfsds_handler_bytes_total\{direction="up",exit="x1"\} 100000\b/);
      assert.match(metrics, /apfsds_handler_exit_up\{exit="x1"\} 1\b/);
      assert.equal((await fetch(`${admin}/admin/v1/users`)).status, 401);
      const users = (await (await fetch(`${admin}/admin/v1/users`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { users?: Array<{ id: string }> };
      assert.deepEqual(users.users?.map((u) => u.id), ['alice']);
      const exits = await (await fetch(`${admin}/admin/v1/exits`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
      assert.match(exits, /"x1"/);
      client.close();
    } finally {
      await handler.close();
      await exit.close();
    }
    assert.equal(await refused(handler.port), true);
    assert.equal(await refused(handler.adminPort!), true);
    assert.ok(lines.some((l) => l['msg'] === 'stopped'));
  });

  it('rejects with BAD_CONFIG when the public port is taken, leaving nothing running', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await assert.rejects(
        startHandler(handlerConfig({ listen: { host: '127.0.0.1', port } }), { logger: createLogger({ role: 'handler', level: 'silent', format: 'json' }) }),
        (err: { code?: string }) => err.code === 'APFSDS_ERR_BAD_CONFIG',
      );
    } finally {
      blocker.close();
    }
  });

  it('keeps its replicated state in raft.dataDir: a restart neither re-seeds nor loses admin changes', async () => {
    const alice = testKey();
    const config = handlerConfig({ users: [userEntry('alice', alice)], admin: adminOn });
    const first = await startHandler(config, { logger: quietLogger });
    try {
      assert.equal(first.node?.status().leader, 'h1');
      const res = await fetch(`http://127.0.0.1:${first.adminPort!}/admin/v1/users/alice/disable`, { method: 'POST', headers: auth });
      assert.equal(res.status, 200);
      const made = await fetch(`http://127.0.0.1:${first.adminPort!}/admin/v1/users`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ id: 'carol', publicKey: testKey().publicText }),
      });
      assert.equal(made.status, 201);
    } finally {
      await first.close();
    }
    const again = await startHandler(config, { logger: quietLogger });
    try {
      assert.deepEqual(again.store.view.users.list().map((u) => [u.id, u.status]), [['alice', 'disabled'], ['carol', 'active']]);
      assert.deepEqual(await (await fetch(`http://127.0.0.1:${again.adminPort!}/ready`)).json(), { ready: true });
    } finally {
      await again.close();
    }
  });

  it('rejects with BAD_CONFIG when the replicated state refuses a seed (one key, two users), leaving nothing running', async () => {
    const key = testKey();
    const config = handlerConfig({ users: [userEntry('a', key), userEntry('b', key)] });
    await assert.rejects(startHandler(config, { logger: quietLogger }), (err: { code?: string }) => err.code === 'APFSDS_ERR_BAD_CONFIG');
    // Nothing reached the log: the fixed config seeds a fresh state on the same raft dir.
    const fixed = await startHandler({ ...config, users: [config.users[1]!] }, { logger: quietLogger });
    try {
      assert.deepEqual(fixed.store.view.users.list().map((u) => u.id), ['b']);
    } finally {
      await fixed.close();
    }
  });

  it('runs on an injected store without Raft: no node, /admin/v1/cluster answers 501', async () => {
    const config = handlerConfig({ admin: adminOn });
    const handler = await startHandler(config, { logger: quietLogger, store: LocalStateStore.fromConfig(config) });
    try {
      assert.equal(handler.node, undefined);
      assert.equal((await fetch(`http://127.0.0.1:${handler.adminPort!}/ready`)).status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${handler.adminPort!}/admin/v1/cluster`, { headers: auth })).status, 501);
    } finally {
      await handler.close();
    }
  });
});

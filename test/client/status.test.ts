import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startClient } from '../../client/main.ts';
import { startFakeHandler } from './fake-handler.ts';
import { captureLog, clientConfig, curl, makeUser, startOrigin, within } from './helpers.ts';

test('the status listener serves /health, /ready once a session is up, and client metrics', async () => {
  const user = makeUser();
  const handler = await startFakeHandler({ users: [user.publicKey] });
  const origin = await startOrigin();
  const config = clientConfig([handler.url], handler.clusterPublicKey, user, { status: { enabled: true, port: 0 } });
  const client = await startClient(config, { logger: captureLog().logger });
  try {
    const base = `http://127.0.0.1:${client.statusPort as number}`;
    assert.equal((await fetch(`${base}/health`)).status, 200);
    assert.equal(await client.waitForSession(10_000), true);
    assert.equal((await fetch(`${base}/ready`)).status, 200);
    const r = await curl(['-x', `socks5h://127.0.0.1:${client.port}`, `http://localhost:${origin.port}/m`]);
    assert.equal(r.code, 0, r.stderr);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /^apfsds_client_sessions_active 1$/m);
    assert.match(metrics, /^apfsds_client_connections_total\{protocol="socks5"\} 1$/m);
    const down = /^apfsds_client_bytes_total\{direction="down"\} (\d+)$/m.exec(metrics);
    assert.ok(Number(down?.[1]) > 0);
    assert.equal((await fetch(`${base}/nope`)).status, 404);
  } finally {
    await client.close();
    await handler.close();
    await origin.close();
  }
});

test('/ready answers 503 while no handler session is up', async () => {
  const user = makeUser();
  const handler = await startFakeHandler({ users: [] });
  const config = clientConfig([handler.url], handler.clusterPublicKey, user, { status: { enabled: true, port: 0 } }, { handshakeTimeout: 300 });
  const client = await startClient(config, { logger: captureLog().logger });
  try {
    const res = await within(fetch(`http://127.0.0.1:${client.statusPort as number}/ready`), 5000, '/ready');
    assert.equal(res.status, 503);
    await res.text();
  } finally {
    await client.close();
    await handler.close();
  }
});

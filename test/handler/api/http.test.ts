import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { serve } from '../../../shared/runtime/http-server.ts';
import { key, makeApp, TOKEN } from './fixtures.ts';

// The admin app behind the real HTTP server, as the handler serves it: requests arrive with
// node:http's framing (a bodiless DELETE still has a body stream), unlike app.request().
async function withServer(fn: (port: number) => Promise<void>): Promise<void> {
  const { app } = makeApp({ admin: { bodyLimit: 1024 } });
  const server = await serve({ hostname: '127.0.0.1', port: 0, fetch: app.fetch });
  try {
    await fn(server.port);
  } finally {
    await server.close();
  }
}

const auth = { authorization: `Bearer ${TOKEN}` };

test('over HTTP, a DELETE without a body works and JSON bodies are bounded by Content-Length', async () => {
  await withServer(async (port) => {
    const base = `http://127.0.0.1:${port}/admin/v1`;
    const created = await fetch(`${base}/users`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'alice', publicKey: key(1) }),
    });
    assert.equal(created.status, 201);
    assert.equal((await fetch(`${base}/users/alice`, { method: 'DELETE', headers: auth })).status, 204);
    assert.equal((await fetch(`${base}/users/alice`, { headers: auth })).status, 404);
    const big = await fetch(`${base}/users`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'bob', publicKey: key(2), padding: 'x'.repeat(2048) }),
    });
    assert.equal(big.status, 413);
  });
});

test('over HTTP, a chunked body is refused with 411 before it is read', async () => {
  await withServer(async (port) => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, method: 'POST', path: '/admin/v1/users', headers: { ...auth, 'content-type': 'application/json', 'transfer-encoding': 'chunked' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ id: 'carol', publicKey: key(3) }));
    });
    assert.equal(status, 411);
  });
});

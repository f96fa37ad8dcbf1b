import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Hono } from 'hono';
import { ErrorCode, hasCode } from '../../../shared/errors.ts';
import { serve, type HttpServer } from '../../../shared/runtime/http-server.ts';
import { dialWebSocket } from '../../../shared/runtime/ws-client.ts';
import type { WsConnection } from '../../../shared/runtime/websocket.ts';
import { deferred, rawConnect, stripDate, upgradeRequest, within } from './fixtures.ts';

/** The decoy: an ordinary little site, as a hono app. */
function decoyApp(): Hono {
  const app = new Hono();
  app.get('/', (c) => c.html('<h1>Welcome</h1>'));
  app.notFound((c) => c.text('Not Found', 404));
  return app;
}

describe('serve() non-matching upgrades', () => {
  let server: HttpServer;
  const opened: WsConnection[] = [];

  before(async () => {
    server = await serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: decoyApp().fetch,
      websocket: {
        path: '/tunnel',
        match: (req) => req.headers.get('x-knock') === 'yes',
        onOpen: (ws) => {
          opened.push(ws);
          ws.onMessage(() => {});
        },
      },
    });
  });

  after(async () => {
    await server.close({ graceMs: 0 });
  });

  async function exchange(request: string, marker: string): Promise<string> {
    const client = await rawConnect(server.port);
    client.socket.write(request);
    await client.waitFor(marker, 5_000);
    client.socket.destroy();
    return stripDate(client.received().toString('latin1'));
  }

  it('answers an upgrade on another path byte-for-byte like a plain request', async () => {
    const plain = await exchange('GET /missing HTTP/1.1\r\nHost: localhost\r\n\r\n', 'Not Found');
    const upgrade = await exchange(upgradeRequest('/missing'), 'Not Found');
    assert.match(plain, /^HTTP\/1\.1 404 /);
    assert.equal(upgrade, plain);
    const home = await exchange(upgradeRequest('/'), 'Welcome');
    assert.equal(home, await exchange('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n', 'Welcome'));
  });

  it('keeps the connection alive for the next request after answering an upgrade', async () => {
    const client = await rawConnect(server.port);
    client.socket.write(upgradeRequest('/a') + 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    await within(client.ended, 5_000, 'server FIN after the second response');
    const text = client.received().toString('latin1');
    assert.equal(text.match(/HTTP\/1\.1 /g)?.length, 2);
    assert.match(text, /Connection: keep-alive[\s\S]*Welcome/);
  });

  it('gives a malformed handshake on the tunnel path to fetch instead of a WebSocket 400', async () => {
    const badKey = upgradeRequest('/tunnel', 'X-Knock: yes\r\n').replace('dGhlIHNhbXBsZSBub25jZQ==', 'short');
    const answer = await exchange(badKey, 'Not Found');
    assert.equal(answer, await exchange('GET /tunnel HTTP/1.1\r\nHost: localhost\r\n\r\n', 'Not Found'));
  });

  it('lets match() refuse by header, and dialWebSocket() reports the status as UPGRADE_FAILED', async () => {
    await assert.rejects(dialWebSocket(`ws://127.0.0.1:${server.port}/tunnel`), (err) => {
      assert.ok(hasCode(err, ErrorCode.UPGRADE_FAILED));
      assert.equal((err as { status?: number }).status, 404);
      return true;
    });
    const ws = await dialWebSocket(`ws://127.0.0.1:${server.port}/tunnel`, { headers: { 'X-Knock': 'yes' } });
    const closed = deferred<number>();
    ws.onClose((code) => closed.resolve(code));
    ws.close(1000);
    assert.equal(await within(closed.promise, 5_000, 'close'), 1000);
    assert.equal(opened.length, 1);
  });
});

describe('serve() shutdown', () => {
  it('close() ends open WebSockets with 1001 and stops listening', async () => {
    const server = await serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: () => new Response('decoy'),
      websocket: { path: '/t', onOpen: (ws) => ws.onMessage(() => {}) },
    });
    const ws = await dialWebSocket(`ws://127.0.0.1:${server.port}/t`);
    const closed = deferred<number>();
    ws.onClose((code) => closed.resolve(code));
    ws.onMessage(() => {});
    await within(server.close(), 5_000, 'server close');
    assert.equal(await within(closed.promise, 5_000, 'client close'), 1001);
    await assert.rejects(dialWebSocket(`ws://127.0.0.1:${server.port}/t`, { timeoutMs: 2_000 }), (err) => hasCode(err, ErrorCode.CONNECT_FAILED));
  });

  it('rejects a port that is already taken with BAD_CONFIG', async () => {
    const first = await serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response('a') });
    try {
      await assert.rejects(serve({ hostname: '127.0.0.1', port: first.port, fetch: () => new Response('b') }), (err) => hasCode(err, ErrorCode.BAD_CONFIG));
    } finally {
      await first.close({ graceMs: 0 });
    }
  });

  it('rejects a websocket.path without a leading slash with BAD_CONFIG', async () => {
    await assert.rejects(
      serve({ hostname: '127.0.0.1', port: 0, fetch: () => new Response(''), websocket: { path: 'tunnel', onOpen: () => {} } }),
      (err) => hasCode(err, ErrorCode.BAD_CONFIG),
    );
  });
});

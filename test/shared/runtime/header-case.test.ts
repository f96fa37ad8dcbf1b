import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { serve } from '../../../shared/runtime/http-server.ts';
import { canonicalHeaderName } from '../../../shared/runtime/http-server-node.ts';

function rawGet(port: number, path: string, extra = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}Connection: close\r\n\r\n`);
    });
    const chunks: Buffer[] = [];
    socket.setTimeout(5_000, () => socket.destroy(new Error('no answer within 5 s')));
    socket.on('data', (c) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
  });
}

test('canonicalHeaderName() writes names the way common servers do', () => {
  assert.equal(canonicalHeaderName('content-type'), 'Content-Type');
  assert.equal(canonicalHeaderName('x-frame-options'), 'X-Frame-Options');
  assert.equal(canonicalHeaderName('etag'), 'ETag');
  assert.equal(canonicalHeaderName('www-authenticate'), 'WWW-Authenticate');
});

test('responses go out with Title-Case header names, also when a refused upgrade gets the decoy', async () => {
  const server = await serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: () => new Response('<html></html>', { headers: { 'content-type': 'text/html', etag: '"abc"', 'x-frame-options': 'DENY' } }),
    websocket: { path: '/secret', onOpen: (ws) => ws.close() },
  });
  try {
    for (const extra of ['', 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n']) {
      const head = (await rawGet(server.port, '/elsewhere', extra)).split('\r\n\r\n')[0]!;
      assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
      for (const name of ['Content-Type: text/html', 'ETag: "abc"', 'X-Frame-Options: DENY']) {
        assert.ok(head.includes(`\r\n${name}`), `expected "${name}" in:\n${head}`);
      }
      assert.ok(!/\r\n[a-z][a-z-]*:/.test(head), `no lower-case header names expected in:\n${head}`);
    }
  } finally {
    await server.close();
  }
});

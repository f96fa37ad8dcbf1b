import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { ErrorCode, hasCode } from '../../../shared/errors.ts';
import { serve, type HttpServer } from '../../../shared/runtime/http-server.ts';
import { dialWebSocket } from '../../../shared/runtime/ws-client.ts';
import { WS_HEADROOM, type WsConnection } from '../../../shared/runtime/websocket.ts';
import { Prng } from '../../support/prng.ts';
import { deferred, rawConnect, upgradeRequest, within } from './fixtures.ts';

type Closed = { code: number; reason: string; error?: Error };

function closedOf(ws: WsConnection): Promise<Closed> {
  const done = deferred<Closed>();
  ws.onClose((code, reason, error) => done.resolve(error === undefined ? { code, reason } : { code, reason, error }));
  return done.promise;
}

function pattern(size: number, seed: number): Uint8Array {
  const prng = new Prng(seed);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = prng.u32() & 0xff;
  return out;
}

/** One server whose behaviour each test picks through the request path. */
describe('WsConnection over serve() and dialWebSocket()', () => {
  let server: HttpServer;
  const serverSide = new Map<string, (ws: WsConnection) => void>();
  let lastServerWs: Promise<WsConnection> = Promise.resolve(null as unknown as WsConnection);

  before(async () => {
    server = await serve({
      hostname: '127.0.0.1',
      port: 0,
      maxPayload: 2 << 20,
      highWaterMark: 64 << 10,
      lowWaterMark: 16 << 10,
      fetch: () => new Response('decoy', { status: 404 }),
      websocket: {
        match: (req) => serverSide.has(new URL(req.url).pathname),
        onOpen: (ws, req) => {
          const behaviour = serverSide.get(new URL(req.url).pathname);
          lastServerWs = Promise.resolve(ws);
          behaviour?.(ws);
        },
      },
    });
    serverSide.set('/echo', (ws) => ws.onMessage((data) => ws.send(data)));
    serverSide.set('/sink', (ws) => ws.onMessage(() => {}));
    // Echoes each message back through sendWithHeadroom() (server side: unmasked).
    serverSide.set('/headroom-echo', (ws) =>
      ws.onMessage((data) => {
        const framed = new Uint8Array(WS_HEADROOM + data.length);
        framed.set(data, WS_HEADROOM);
        assert.ok(ws.sendWithHeadroom !== undefined);
        ws.sendWithHeadroom(framed, WS_HEADROOM);
      }),
    );
  });

  after(async () => {
    await server.close({ graceMs: 0 });
  });

  it('echoes 1 byte, 16 KiB and 1 MiB binary messages unchanged as plain Uint8Arrays', async () => {
    const ws = await dialWebSocket(`ws://127.0.0.1:${server.port}/echo`, { maxPayload: 2 << 20 });
    const sizes = [1, 16 << 10, 1 << 20];
    const replies: Uint8Array[] = [];
    const all = deferred();
    ws.onMessage((data) => {
      replies.push(data);
      if (replies.length === sizes.length) all.resolve();
    });
    const sent = sizes.map((size, i) => pattern(size, i + 1));
    for (const message of sent) ws.send(message);
    await within(all.promise, 10_000, 'three echoes');
    for (let i = 0; i < sizes.length; i++) {
      assert.equal(Object.getPrototypeOf(replies[i]), Uint8Array.prototype);
      assert.deepEqual(replies[i], sent[i]);
    }
    const serverWs = await lastServerWs;
    assert.equal(serverWs.remoteAddress, '127.0.0.1');
    assert.equal(ws.remotePort, server.port);
    const closed = closedOf(ws);
    ws.close(4000, 'bye');
    assert.deepEqual(await within(closed, 5_000, 'client close'), { code: 4000, reason: 'bye' });
  });

  it('sendWithHeadroom() sends the bytes after the headroom as one message, masked from a client and unmasked from a server', async () => {
    const ws = await dialWebSocket(`ws://127.0.0.1:${server.port}/headroom-echo`, { maxPayload: 2 << 20 });
    // Lengths around the 7-bit, 16-bit and 64-bit length encodings; headroom beyond the minimum too.
    const sizes = [0, 1, 5, 125, 126, 1001, 65535, 65536, 70_001];
    const replies: Uint8Array[] = [];
    const all = deferred();
    ws.onMessage((data) => {
      replies.push(data);
      if (replies.length === sizes.length) all.resolve();
    });
    const sent = sizes.map((size, i) => pattern(size, i + 11));
    assert.ok(ws.sendWithHeadroom !== undefined);
    for (const [i, message] of sent.entries()) {
      const headroom = WS_HEADROOM + (i % 3);
      const framed = new Uint8Array(headroom + message.length);
      framed.set(message, headroom);
      assert.equal(ws.sendWithHeadroom(framed, headroom), true);
    }
    await within(all.promise, 10_000, 'the echoes');
    for (let i = 0; i < sizes.length; i++) assert.deepEqual(replies[i], sent[i]);
    assert.throws(() => ws.sendWithHeadroom?.(new Uint8Array(20), WS_HEADROOM - 1), { code: ErrorCode.BUFFER_LIMIT });
    const closed = closedOf(ws);
    ws.close(4000, 'bye');
    assert.deepEqual(await within(closed, 5_000, 'client close'), { code: 4000, reason: 'bye' });
  });

  it('reports the peer close code and reason on the other side', async () => {
    const ws = await dialWebSocket(`ws://127.0.0.1:${server.port}/sink`);
    const serverWs = await lastServerWs;
    const serverClosed = closedOf(serverWs);
    ws.close(4001, 'done');
    assert.deepEqual(await within(serverClosed, 5_000, 'server close'), { code: 4001, reason: 'done' });
    assert.equal(serverWs.readyState, 'closed');
  });

  it('closes with 1009 and FRAME_TOO_LARGE when a message exceeds maxPayload', async () => {
    const ws = await dialWebSocket(`ws://127.0.0.1:${server.port}/sink`);
    const serverClosed = closedOf(await lastServerWs);
    const clientClosed = closedOf(ws);
    ws.onMessage(() => {});
    ws.send(new Uint8Array((2 << 20) + 1));
    const seen = await within(serverClosed, 5_000, 'server close');
    assert.equal(seen.code, 1009);
    assert.ok(hasCode(seen.error, ErrorCode.FRAME_TOO_LARGE));
    assert.equal((await within(clientClosed, 5_000, 'client close')).code, 1009);
  });

  it('closes with 1003 and PROTOCOL when the peer sends a text message', async () => {
    const raw = new WebSocket(`ws://127.0.0.1:${server.port}/sink`, { perMessageDeflate: false });
    await within(new Promise((resolve, reject) => raw.once('open', resolve).once('error', reject)), 5_000, 'open');
    const serverClosed = closedOf(await lastServerWs);
    const peerCode = new Promise<number>((resolve) => raw.once('close', (code) => resolve(code)));
    raw.send('hello');
    const seen = await within(serverClosed, 5_000, 'server close');
    assert.equal(seen.code, 1003);
    assert.ok(hasCode(seen.error, ErrorCode.PROTOCOL));
    assert.equal(await within(peerCode, 5_000, 'peer close'), 1003);
  });

  it('send() returns false at highWaterMark and onDrain fires once the reader catches up', async () => {
    const chunk = new Uint8Array(64 << 10);
    const serverReady = deferred<WsConnection>();
    serverSide.set('/flood', (ws) => {
      ws.onMessage(() => {});
      serverReady.resolve(ws);
    });
    const client = await dialWebSocket(`ws://127.0.0.1:${server.port}/flood`);
    let received = 0;
    let target = Infinity;
    const all = deferred();
    client.pause();
    client.onMessage((data) => {
      received += data.byteLength;
      if (received >= target) all.resolve();
    });
    const ws = await within(serverReady.promise, 5_000, 'server side');
    let sent = 0;
    let accepted = true;
    for (let i = 0; i < 4096 && accepted; i++) {
      accepted = ws.send(chunk);
      sent += chunk.byteLength;
    }
    assert.equal(accepted, false, 'send() never reported backpressure');
    assert.ok(ws.bufferedAmount >= 64 << 10);
    const drained = deferred();
    ws.onDrain(() => drained.resolve());
    target = sent;
    client.resume();
    await within(drained.promise, 10_000, 'drain');
    assert.ok(ws.bufferedAmount <= 16 << 10);
    await within(all.promise, 10_000, 'every flooded byte');
    assert.equal(received, sent);
    client.close();
  });

  it('delivers no message while paused and all of them after resume()', async () => {
    const serverReady = deferred<WsConnection>();
    serverSide.set('/burst', (ws) => {
      ws.onMessage(() => {});
      serverReady.resolve(ws);
    });
    const client = await dialWebSocket(`ws://127.0.0.1:${server.port}/burst`);
    let paused = true;
    const got: number[] = [];
    const all = deferred();
    client.pause();
    client.onMessage((data) => {
      assert.equal(paused, false, 'onMessage ran while paused');
      got.push(data[0] as number);
      if (got.length === 20) all.resolve();
    });
    const ws = await within(serverReady.promise, 5_000, 'server side');
    for (let i = 0; i < 20; i++) ws.send(Uint8Array.of(i));
    await new Promise((resolve) => setTimeout(resolve, 50));
    paused = false;
    client.resume();
    await within(all.promise, 5_000, 'twenty messages');
    assert.deepEqual(got, [...Array(20).keys()]);
    client.close();
  });

  it('terminate() drops the connection with a FIN and no close frame after draining input', async () => {
    const serverClosed = deferred<Closed>();
    serverSide.set('/drain', (ws) => {
      ws.onClose((code, reason) => serverClosed.resolve({ code, reason }));
      ws.onMessage(() => ws.terminate());
    });
    const client = await rawConnect(server.port);
    client.socket.write(upgradeRequest('/drain'));
    await client.waitFor('\r\n\r\n', 5_000);
    const headerLength = client.received().indexOf('\r\n\r\n') + 4;
    assert.match(client.received().toString('latin1'), /^HTTP\/1\.1 101 /);
    // One masked binary frame (RFC 6455 section 5.2), payload "hi" under mask 01 02 03 04.
    client.socket.write(Uint8Array.of(0x82, 0x82, 1, 2, 3, 4, 0x68 ^ 1, 0x69 ^ 2));
    await within(client.ended, 5_000, 'FIN from server');
    assert.equal(client.received().byteLength, headerLength, 'bytes after the 101 response (a close frame?)');
    assert.equal((await within(serverClosed.promise, 5_000, 'server onClose')).code, 1006);
    client.socket.destroy();
  });

  it('a throwing onMessage handler closes that connection with 1011 instead of crashing', async () => {
    const serverClosed = deferred<Closed>();
    serverSide.set('/buggy', (ws) => {
      ws.onClose((code, reason, error) => serverClosed.resolve(error === undefined ? { code, reason } : { code, reason, error }));
      ws.onMessage(() => {
        throw new Error('handler bug');
      });
    });
    const client = await dialWebSocket(`ws://127.0.0.1:${server.port}/buggy`);
    const clientClosed = closedOf(client);
    client.onMessage(() => {});
    client.send(Uint8Array.of(1));
    const seen = await within(serverClosed.promise, 5_000, 'server close');
    assert.equal(seen.code, 1011);
    assert.equal(seen.error?.message, 'handler bug');
    assert.equal((await within(clientClosed, 5_000, 'client close')).code, 1011);
  });

  it('send() after close() is dropped and returns false', async () => {
    const ws = await dialWebSocket(`ws://127.0.0.1:${server.port}/sink`);
    const closed = closedOf(ws);
    ws.close();
    assert.equal(ws.readyState, 'closing');
    assert.equal(ws.send(Uint8Array.of(1)), false);
    assert.equal((await within(closed, 5_000, 'close')).code, 1000);
    assert.throws(() => ws.close(1005), (err) => hasCode(err, ErrorCode.PROTOCOL));
  });
});

describe('WsConnection over IPv6 loopback', () => {
  it('dials ws://[::1]:port/ and sees ::1 as the remote address', async (t) => {
    let server: HttpServer;
    try {
      server = await serve({ hostname: '::1', port: 0, fetch: () => new Response(''), websocket: { onOpen: (ws) => ws.onMessage((d) => ws.send(d)) } });
    } catch (err) {
      if (hasCode(err, ErrorCode.BAD_CONFIG)) {
        t.diagnostic('::1 is not available on this host; IPv6 loopback not tested');
        return;
      }
      throw err;
    }
    try {
      const ws = await dialWebSocket(`ws://[::1]:${server.port}/`);
      assert.equal(ws.remoteAddress, '::1');
      const reply = deferred<Uint8Array>();
      ws.onMessage((data) => reply.resolve(data));
      ws.send(Uint8Array.of(6));
      assert.deepEqual(await within(reply.promise, 5_000, 'echo'), Uint8Array.of(6));
      ws.close();
    } finally {
      await server.close({ graceMs: 0 });
    }
  });
});

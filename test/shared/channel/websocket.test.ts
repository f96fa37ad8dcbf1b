import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ErrorCode } from '../../../shared/errors.ts';
import { generatePrivateKey } from '../../../shared/crypto/keys.ts';
import { ReplayGuard } from '../../../shared/crypto/replay-guard.ts';
import { StaticKey } from '../../../shared/crypto/static-key.ts';
import { absorbThenClose, acceptSession, connectSession, type HandshakeRefusal, type HelloTemplate } from '../../../shared/channel/index.ts';
import { muxOptionsFromHellos } from '../../../shared/mux/hellos.ts';
import { MuxSession } from '../../../shared/mux/session.ts';
import { AddressType, Network } from '../../../shared/protocol/constants.ts';
import { PaddingPolicy, Role } from '../../../shared/protocol/hello.ts';
import { serve, type HttpServer } from '../../../shared/runtime/http-server.ts';
import { dialWebSocket } from '../../../shared/runtime/ws-client.ts';
import { echoThrough } from '../../support/streams.ts';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function hello(role: HelloTemplate['role']): HelloTemplate {
  return {
    role,
    paddingPolicy: PaddingPolicy.BUCKETS,
    capabilities: 0,
    maxFrameLength: 16384,
    streamWindow: 256 * 1024,
    sessionWindow: 1024 * 1024,
    maxStreams: 512,
    nodeId: '',
    region: '',
  };
}

describe('secure channel + mux over a real WebSocket on 127.0.0.1', () => {
  const handlerKey = StaticKey.fromPrivate(generatePrivateKey());
  const userKey = StaticKey.fromPrivate(generatePrivateKey());
  const refusals: HandshakeRefusal[] = [];
  const sessions = new Set<MuxSession>();
  let server: HttpServer;

  before(async () => {
    const replayGuard = new ReplayGuard();
    server = await serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: () => new Response('not found', { status: 404 }),
      websocket: {
        path: '/t',
        onOpen: (ws) => {
          void acceptSession(ws, {
            staticKey: handlerKey,
            hello: hello(Role.HANDLER),
            replayGuard,
            timeoutMs: 2000,
            authorize: (pk) => Buffer.from(pk).equals(Buffer.from(userKey.publicKey)),
          }).then((outcome) => {
            if (!outcome.ok) {
              refusals.push(outcome.reason);
              void absorbThenClose(ws, 50);
              return;
            }
            const session = new MuxSession(outcome.channel, {
              role: 'acceptor',
              keepaliveIntervalMs: 0,
              ...muxOptionsFromHellos(outcome.localHello, outcome.remoteHello),
              onOpen: (stream) => {
                stream.accept();
                void (async () => {
                  for await (const chunk of stream) await stream.write(chunk.slice());
                  stream.end();
                })().catch(() => {});
              },
            });
            sessions.add(session);
            void session.closed.then(() => sessions.delete(session));
          });
        },
      },
    });
  });

  after(async () => {
    for (const s of sessions) s.close();
    await server.close({ graceMs: 0 });
  });

  it('handshakes, then echoes 2 MiB through a mux stream intact', async () => {
    const ws = await dialWebSocket(`ws://127.0.0.1:${server.port}/t`, { timeoutMs: 5000 });
    const est = await connectSession(ws, { staticKey: userKey, remoteStatic: handlerKey.publicKey, hello: hello(Role.CLIENT), timeoutMs: 5000 });
    const session = new MuxSession(est.channel, { role: 'opener', keepaliveIntervalMs: 0, ...muxOptionsFromHellos(est.localHello, est.remoteHello) });
    const stream = await session.connect({ network: Network.TCP, address: { addressType: AddressType.IPV4, host: '192.0.2.1', port: 7 } });
    const data = new Uint8Array(2 << 20).map((_, i) => (i * 131 + (i >> 9)) & 0xff);
    assert.equal(sha(await echoThrough(stream, data, 16384)), sha(data));
    assert.ok((await session.ping(5000)) >= 0);
    session.close();
    assert.equal(await session.closed, undefined);
  });

  it('a client with an unknown key gets no answer and the server drops the socket', async () => {
    const ws = await dialWebSocket(`ws://127.0.0.1:${server.port}/t`, { timeoutMs: 5000 });
    const stranger = StaticKey.fromPrivate(generatePrivateKey());
    await assert.rejects(connectSession(ws, { staticKey: stranger, remoteStatic: handlerKey.publicKey, hello: hello(Role.CLIENT), timeoutMs: 1000 }), (err: unknown) => {
      const code = (err as { code?: string }).code;
      // Either our deadline fires first or the server's absorb-then-drop does.
      return code === ErrorCode.TIMEOUT || code === ErrorCode.CLOSED;
    });
    assert.ok(refusals.includes('denied'));
  });
});

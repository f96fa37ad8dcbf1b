import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ErrorCode } from '../../../shared/errors.ts';
import { generatePrivateKey } from '../../../shared/crypto/keys.ts';
import { ReplayGuard } from '../../../shared/crypto/replay-guard.ts';
import { StaticKey } from '../../../shared/crypto/static-key.ts';
import { absorbThenClose, acceptLink, acceptSession, connectLink, connectSession, type HelloTemplate } from '../../../shared/channel/index.ts';
import { muxOptionsFromHellos } from '../../../shared/mux/hellos.ts';
import { MuxSession } from '../../../shared/mux/session.ts';
import type { MuxStream } from '../../../shared/mux/stream.ts';
import { PaddingPolicy, Role, type Hello } from '../../../shared/protocol/hello.ts';
import { AddressType, Network } from '../../../shared/protocol/constants.ts';
import { fakeWsPair } from './fake-ws.ts';
import { echoThrough } from '../../support/streams.ts';

const key = (): StaticKey => StaticKey.fromPrivate(generatePrivateKey());
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function hello(role: Hello['role'], extra: Partial<HelloTemplate> = {}): HelloTemplate {
  return {
    role,
    paddingPolicy: PaddingPolicy.NONE,
    capabilities: 0,
    maxFrameLength: 16384,
    streamWindow: 256 * 1024,
    sessionWindow: 1024 * 1024,
    maxStreams: 512,
    nodeId: '',
    region: '',
    ...extra,
  };
}

const handlerKey = key();
const REQUEST = { network: Network.TCP, address: { addressType: AddressType.DOMAIN, host: 'example.com', port: 80 } } as const;

describe('client session handshake (Noise IK)', () => {
  it('establishes a channel, hands the user key and hello to authorize, and carries a mux both ways', async () => {
    const user = key();
    const [clientWs, serverWs] = fakeWsPair();
    const seen: Array<[string, string]> = [];
    const accepting = acceptSession(serverWs, {
      staticKey: handlerKey,
      hello: hello(Role.HANDLER),
      replayGuard: new ReplayGuard(),
      authorize: (pk, h) => {
        seen.push([Buffer.from(pk).toString('hex'), h.region]);
        return { userId: 'u1' };
      },
    });
    const client = await connectSession(clientWs, {
      staticKey: user,
      remoteStatic: handlerKey.publicKey,
      hello: hello(Role.CLIENT, { region: 'eu' }),
    });
    const server = await accepting;
    assert.ok(server.ok);
    assert.deepEqual(server.auth, { userId: 'u1' });
    assert.deepEqual(seen, [[Buffer.from(user.publicKey).toString('hex'), 'eu']]);
    assert.deepEqual(server.remoteStaticKey, user.publicKey);
    assert.deepEqual(client.remoteStaticKey, handlerKey.publicKey);
    assert.deepEqual(client.handshakeHash, server.handshakeHash);
    assert.equal(client.remoteHello.role, Role.HANDLER);

    const accepted: MuxStream[] = [];
    const a = new MuxSession(client.channel, { role: 'opener', keepaliveIntervalMs: 0, ...muxOptionsFromHellos(client.localHello, client.remoteHello) });
    const b = new MuxSession(server.channel, {
      role: 'acceptor',
      keepaliveIntervalMs: 0,
      ...muxOptionsFromHellos(server.localHello, server.remoteHello),
      onOpen: (s) => {
        s.accept();
        accepted.push(s);
        // Echo.
        void (async () => {
          for await (const chunk of s) await s.write(chunk.slice());
          s.end();
        })();
      },
    });
    const s = await a.connect(REQUEST);
    const data = new Uint8Array(300_000).map((_, i) => (i * 31) & 0xff);
    assert.equal(sha(await echoThrough(s, data, 16384)), sha(data));
    a.close();
    await b.closed;
  });

  it('refuses a client that targets another handler key, without sending a byte', async () => {
    const [clientWs, serverWs] = fakeWsPair();
    const accepting = acceptSession(serverWs, {
      staticKey: handlerKey,
      hello: hello(Role.HANDLER),
      replayGuard: new ReplayGuard(),
      authorize: () => true,
      timeoutMs: 2000,
    });
    const connecting = connectSession(clientWs, { staticKey: key(), remoteStatic: key().publicKey, hello: hello(Role.CLIENT), timeoutMs: 200 });
    const outcome = await accepting;
    assert.equal(outcome.ok, false);
    assert.equal(!outcome.ok && outcome.reason, 'handshake');
    assert.equal(!outcome.ok && (outcome.error as { code?: string }).code, ErrorCode.HANDSHAKE);
    await assert.rejects(connecting, { code: ErrorCode.TIMEOUT });
    assert.equal(serverWs.sent.length, 0);
  });

  it('refuses a user that authorize() does not know, without sending a byte', async () => {
    const [clientWs, serverWs] = fakeWsPair();
    const accepting = acceptSession(serverWs, {
      staticKey: handlerKey,
      hello: hello(Role.HANDLER),
      replayGuard: new ReplayGuard(),
      authorize: async () => false,
    });
    void connectSession(clientWs, { staticKey: key(), remoteStatic: handlerKey.publicKey, hello: hello(Role.CLIENT), timeoutMs: 100 }).catch(() => {});
    const outcome = await accepting;
    assert.equal(!outcome.ok && outcome.reason, 'denied');
    assert.equal(!outcome.ok && (outcome.error as { code?: string }).code, ErrorCode.AUTH_FAILED);
    assert.equal(serverWs.sent.length, 0);
  });

  it('refuses garbage, silence and a wrong-role hello without sending a byte', async () => {
    const garbage = fakeWsPair();
    const g = acceptSession(garbage[1], { staticKey: handlerKey, hello: hello(Role.HANDLER), replayGuard: new ReplayGuard(), authorize: () => true });
    garbage[0].send(new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    const go = await g;
    assert.equal(!go.ok && go.reason, 'handshake');
    assert.equal(garbage[1].sent.length, 0);

    const silent = fakeWsPair();
    const so = await acceptSession(silent[1], {
      staticKey: handlerKey,
      hello: hello(Role.HANDLER),
      replayGuard: new ReplayGuard(),
      authorize: () => true,
      timeoutMs: 30,
    });
    assert.equal(!so.ok && so.reason, 'timeout');
    assert.equal(!so.ok && (so.error as { code?: string }).code, ErrorCode.TIMEOUT);
    assert.equal(silent[1].sent.length, 0);
    assert.equal(silent[1].closedBy, null, 'the socket is left for the caller to absorb and drop');

    const wrongRole = fakeWsPair();
    const w = acceptSession(wrongRole[1], { staticKey: handlerKey, hello: hello(Role.HANDLER), replayGuard: new ReplayGuard(), authorize: () => true });
    void connectSession(wrongRole[0], { staticKey: key(), remoteStatic: handlerKey.publicKey, hello: hello(Role.EXIT), timeoutMs: 100 }).catch(() => {});
    const wo = await w;
    assert.equal(!wo.ok && wo.reason, 'hello');
    assert.equal(wrongRole[1].sent.length, 0);
  });

  it('refuses a replayed message 1 and a stale timestamp', async () => {
    const guard = new ReplayGuard();
    const user = key();
    const first = fakeWsPair();
    const ok = acceptSession(first[1], { staticKey: handlerKey, hello: hello(Role.HANDLER), replayGuard: guard, authorize: () => true });
    await connectSession(first[0], { staticKey: user, remoteStatic: handlerKey.publicKey, hello: hello(Role.CLIENT) });
    assert.equal((await ok).ok, true);
    const message1 = first[0].sent[0]!;

    const replay = fakeWsPair();
    const r = acceptSession(replay[1], { staticKey: handlerKey, hello: hello(Role.HANDLER), replayGuard: guard, authorize: () => true });
    replay[0].send(message1);
    const ro = await r;
    assert.equal(!ro.ok && ro.reason, 'replay');
    assert.equal(!ro.ok && (ro.error as { code?: string }).code, ErrorCode.REPLAY);
    assert.equal(replay[1].sent.length, 0);

    const stale = fakeWsPair();
    const s = acceptSession(stale[1], { staticKey: handlerKey, hello: hello(Role.HANDLER), replayGuard: guard, authorize: () => true });
    void connectSession(stale[0], {
      staticKey: user,
      remoteStatic: handlerKey.publicKey,
      hello: hello(Role.CLIENT, { timestamp: Date.now() - 120_000 }),
      timeoutMs: 100,
    }).catch(() => {});
    const st = await s;
    assert.equal(!st.ok && st.reason, 'replay');
    assert.equal(stale[1].sent.length, 0);
  });

  it('absorbThenClose() swallows what the prober sends and drops the socket without a close frame', async () => {
    const [prober, server] = fakeWsPair();
    const done = absorbThenClose(server, 30);
    prober.send(new Uint8Array([1, 2, 3]));
    await done;
    assert.equal(server.closedBy, 'terminate');
    assert.equal(server.sent.length, 0);
  });

  it('a tampered transport message fails the channel with DECRYPT_FAILED and closes the mux', async () => {
    const user = key();
    const [clientWs, serverWs] = fakeWsPair();
    const accepting = acceptSession(serverWs, { staticKey: handlerKey, hello: hello(Role.HANDLER), replayGuard: new ReplayGuard(), authorize: () => true });
    const client = await connectSession(clientWs, { staticKey: user, remoteStatic: handlerKey.publicKey, hello: hello(Role.CLIENT) });
    const server = await accepting;
    assert.ok(server.ok);
    const b = new MuxSession(server.channel, { role: 'acceptor', keepaliveIntervalMs: 0 });
    // A forged message straight on the socket, bypassing the client's cipher.
    clientWs.send(new Uint8Array(40));
    const err = await b.closed;
    assert.equal(((err as Error).cause as { code?: string }).code, ErrorCode.DECRYPT_FAILED);
    assert.equal(serverWs.closedBy, 'terminate');
    client.channel.close();
  });
});

describe('link handshake (Noise KK)', () => {
  const exitKey = key();

  it('connects handler and exit that know each other', async () => {
    const [handlerWs, exitWs] = fakeWsPair();
    const accepting = acceptLink(exitWs, {
      staticKey: exitKey,
      remoteStatic: [key().publicKey, handlerKey.publicKey],
      hello: hello(Role.EXIT, { nodeId: 'exit-eu-1', region: 'eu' }),
      replayGuard: new ReplayGuard(),
    });
    const link = await connectLink(handlerWs, {
      staticKey: handlerKey,
      remoteStatic: exitKey.publicKey,
      hello: hello(Role.HANDLER, { nodeId: 'h1', sessionWindow: 16 << 20, maxStreams: 16384 }),
    });
    const exit = await accepting;
    assert.ok(exit.ok);
    assert.deepEqual(exit.remoteStaticKey, handlerKey.publicKey);
    assert.equal(link.remoteHello.region, 'eu');
    assert.equal(exit.remoteHello.nodeId, 'h1');
    const a = new MuxSession(link.channel, { role: 'opener', allowTags: true, keepaliveIntervalMs: 0, ...muxOptionsFromHellos(link.localHello, link.remoteHello) });
    const b = new MuxSession(exit.channel, {
      role: 'acceptor',
      allowTags: true,
      keepaliveIntervalMs: 0,
      ...muxOptionsFromHellos(exit.localHello, exit.remoteHello),
      onOpen: (s) => s.accept(),
    });
    assert.ok((await a.ping(2000)) >= 0);
    const s = await a.connect({ ...REQUEST, tag: new Uint8Array([7]) });
    assert.equal(s.id, 1);
    a.close();
    await b.closed;
  });

  it('an exit refuses a handler key it does not know, without sending a byte', async () => {
    const [handlerWs, exitWs] = fakeWsPair();
    const accepting = acceptLink(exitWs, {
      staticKey: exitKey,
      remoteStatic: key().publicKey,
      hello: hello(Role.EXIT),
      replayGuard: new ReplayGuard(),
    });
    const connecting = connectLink(handlerWs, { staticKey: handlerKey, remoteStatic: exitKey.publicKey, hello: hello(Role.HANDLER), timeoutMs: 100 });
    const outcome = await accepting;
    assert.equal(!outcome.ok && outcome.reason, 'handshake');
    assert.equal(exitWs.sent.length, 0);
    await assert.rejects(connecting, { code: ErrorCode.TIMEOUT });
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectSession } from '../../../shared/channel/index.ts';
import { StaticKey } from '../../../shared/crypto/static-key.ts';
import { Capability, PaddingPolicy, Role } from '../../../shared/protocol/hello.ts';
import { dialWebSocket } from '../../../shared/runtime/ws-client.ts';
import { startHandler } from '../../../handler/main.ts';
import { makeTestCert, SKIP_WITHOUT_OPENSSL } from '../../shared/runtime/fixtures.ts';
import { CLUSTER, connectClient, handlerConfig, quietLogger, SECRET_PATH, testKey, userEntry, within } from './harness.ts';

describe('listener', () => {
  it('closes a session that sends nothing for limits.idleTimeout', async () => {
    const user = testKey();
    const handler = await startHandler(handlerConfig({ users: [userEntry('u', user)], limits: { idleTimeout: 1000 } }), { logger: quietLogger, closeGraceMs: 200 });
    try {
      const client = await connectClient(handler.port, user);
      await within(client.session.closed, 10_000, 'idle session closed');
      assert.equal(handler.gateway.sessionsOf('u'), 0);
    } finally {
      await handler.close();
    }
  });

  it('serves TLS from tls.certFile/keyFile: the decoy over https and a session over wss', { skip: SKIP_WITHOUT_OPENSSL }, async () => {
    const cert = makeTestCert()!;
    const user = testKey();
    const handler = await startHandler(handlerConfig({ users: [userEntry('u', user)], tls: { certFile: cert.certFile, keyFile: cert.keyFile } }), {
      logger: quietLogger,
      closeGraceMs: 200,
    });
    try {
      const ws = await dialWebSocket(`wss://127.0.0.1:${handler.port}${SECRET_PATH}`, { timeoutMs: 5000, tls: { pinSha256: cert.fingerprint } });
      const est = await connectSession(ws, {
        staticKey: StaticKey.fromPrivate(user.privateKey),
        remoteStatic: CLUSTER.publicKey,
        hello: {
          role: Role.CLIENT,
          paddingPolicy: PaddingPolicy.BUCKETS,
          capabilities: Capability.UDP,
          maxFrameLength: 16384,
          streamWindow: 262144,
          sessionWindow: 1 << 20,
          maxStreams: 64,
          nodeId: '',
          region: '',
        },
        timeoutMs: 5000,
      });
      // The handler mirrors the padding the client asked for.
      assert.equal(est.remoteHello.paddingPolicy, PaddingPolicy.BUCKETS);
      est.channel.close();
      const upgradeDenied = await dialWebSocket(`wss://127.0.0.1:${handler.port}/elsewhere`, { timeoutMs: 5000, tls: { pinSha256: cert.fingerprint } }).then(
        () => 0,
        (err: { status?: number }) => err.status ?? -1,
      );
      assert.equal(upgradeDenied, 404);
    } finally {
      await handler.close();
      cert.dispose();
    }
  });
});


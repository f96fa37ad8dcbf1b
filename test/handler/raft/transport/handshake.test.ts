import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { acceptRaftLink, initiateRaftLink, raftHello } from '../../../../handler/raft/transport/handshake.ts';
import { acceptLink } from '../../../../shared/channel/connect.ts';
import { generateKeyPair } from '../../../../shared/crypto/keys.ts';
import { ReplayGuard } from '../../../../shared/crypto/replay-guard.ts';
import { StaticKey } from '../../../../shared/crypto/static-key.ts';
import { Role } from '../../../../shared/protocol/hello.ts';
import { fakeWsPair } from '../../../shared/channel/fake-ws.ts';

const key = StaticKey.fromPrivate(generateKeyPair().privateKey);

describe('raft link handshake', () => {
  it('completes between two holders of the cluster key and names both nodes', async () => {
    const [a, b] = fakeWsPair();
    const accepted = acceptRaftLink(b, { staticKey: key, nodeId: 'h2', replayGuard: new ReplayGuard(), timeoutMs: 2000 });
    const est = await initiateRaftLink(a, { staticKey: key, nodeId: 'h1', expectPeer: 'h2', timeoutMs: 2000 });
    const out = await accepted;
    assert.equal(out.ok && out.auth, 'h1');
    assert.equal(est.remoteHello.nodeId, 'h2');
  });

  it('refuses a peer that answers under another node id', async () => {
    const [a, b] = fakeWsPair();
    void acceptRaftLink(b, { staticKey: key, nodeId: 'h3', replayGuard: new ReplayGuard(), timeoutMs: 2000 });
    await assert.rejects(initiateRaftLink(a, { staticKey: key, nodeId: 'h1', expectPeer: 'h2', timeoutMs: 2000 }), {
      code: 'APFSDS_ERR_HANDSHAKE',
    });
  });

  it('refuses a caller claiming the listener’s own id, sending nothing back', async () => {
    const [a, b] = fakeWsPair();
    const accepted = acceptRaftLink(b, { staticKey: key, nodeId: 'h1', replayGuard: new ReplayGuard(), timeoutMs: 300 });
    void initiateRaftLink(a, { staticKey: key, nodeId: 'h1', expectPeer: 'h1', timeoutMs: 300 }).catch(() => {});
    const out = await accepted;
    assert.equal(out.ok, false);
    assert.equal(b.sent.length, 0);
  });

  it('never completes against an exit link responder: the prologues differ', async () => {
    const [a, b] = fakeWsPair();
    const exitSide = acceptLink(b, {
      staticKey: key,
      remoteStatic: key.publicKey,
      hello: { ...raftHello('exit-a'), role: Role.EXIT },
      replayGuard: new ReplayGuard(),
      timeoutMs: 300,
    });
    const dialing = initiateRaftLink(a, { staticKey: key, nodeId: 'h1', expectPeer: 'exit-a', timeoutMs: 500 });
    const out = await exitSide;
    assert.equal(out.ok, false);
    assert.equal(!out.ok && out.reason, 'handshake');
    assert.equal(b.sent.length, 0);
    await assert.rejects(dialing);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../../../shared/errors.ts';
import { StaticKey } from '../../../shared/crypto/static-key.ts';
import { backends, seededBytes } from './helpers.ts';

const rand = seededBytes(31);

for (const backend of backends) {
  describe(`${backend.name} (${backend.provider}) StaticKey`, () => {
    it('caches the static-static secret and matches a fresh DH', () => {
      const a = StaticKey.fromPrivate(rand(32), { backend });
      const b = StaticKey.fromPrivate(rand(32), { backend });
      const first = a.sharedStatic(b.publicKey);
      assert.deepEqual(first, b.sharedStatic(a.publicKey));
      assert.deepEqual(first, backend.x25519.dh(a.pair, backend.x25519.publicKey(b.publicKey)));
      first.fill(0);
      assert.notDeepEqual(a.sharedStatic(b.publicKey), first, 'callers get copies');
      assert.equal(a.cachedPeers, 1);
    });

    it('keeps at most peerCacheSize peers, evicting the least recently used', () => {
      const a = StaticKey.fromPrivate(rand(32), { backend, peerCacheSize: 2 });
      const peers = [0, 1, 2].map(() => StaticKey.fromPrivate(rand(32), { backend }).publicKey);
      a.sharedStatic(peers[0]!);
      a.sharedStatic(peers[1]!);
      a.sharedStatic(peers[0]!);
      a.sharedStatic(peers[2]!);
      assert.equal(a.cachedPeers, 2);
      const none = StaticKey.fromPrivate(rand(32), { backend, peerCacheSize: 0 });
      none.sharedStatic(peers[0]!);
      assert.equal(none.cachedPeers, 0);
    });

    it('is unusable after destroy', () => {
      const a = StaticKey.fromPrivate(rand(32), { backend });
      const peer = StaticKey.fromPrivate(rand(32), { backend }).publicKey;
      a.sharedStatic(peer);
      a.destroy();
      assert.equal(a.cachedPeers, 0);
      assert.throws(() => a.sharedStatic(peer), { code: ErrorCode.CLOSED });
    });
  });
}

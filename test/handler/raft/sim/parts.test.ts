import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SimDisk } from './disk.ts';
import { KvStore } from './kv.ts';
import { EventQueue } from './event-queue.ts';
import { createPrng } from '../../../../handler/raft/core/prng.ts';
import type { Entry, Ready } from '../../../../handler/raft/types.ts';

const entries = (from: number, n: number, term = 1): Entry[] =>
  Array.from({ length: n }, (_, i) => ({ index: from + i, term, type: 0, data: new Uint8Array([i]) }));

const ready = (ents: Entry[], commit = 0): Ready => ({
  softState: null,
  hardState: { term: 1, vote: 'a', commit },
  entries: ents,
  snapshot: null,
  committedEntries: [],
  readStates: [],
  messages: [],
  messagesAfterPersist: [],
  mustSync: true,
});

describe('simulator parts', () => {
  it('SimDisk keeps synced writes and at most a prefix of unsynced ones across a crash', () => {
    const rng = createPrng(5);
    for (let trial = 0; trial < 50; trial++) {
      const disk = new SimDisk();
      disk.write(ready(entries(1, 3), 2));
      disk.sync();
      disk.write(ready(entries(4, 5), 3));
      disk.crash(rng);
      const s = disk.load();
      assert.deepEqual(s.entries.slice(0, 3).map((e) => e.index), [1, 2, 3]);
      assert.ok(s.entries.length >= 3 && s.entries.length <= 8);
      s.entries.forEach((e, i) => assert.equal(e.index, i + 1), 'a prefix, no holes');
      if (s.hardState.commit === 3) assert.equal(s.entries.length, 8, 'hard state only survives after its entries');
      assert.equal(disk.syncedCommit, s.hardState.commit === 3 ? 3 : 2);
    }
  });

  it('SimDisk truncates a conflicting suffix and compacts on a local snapshot', () => {
    const disk = new SimDisk();
    disk.write(ready(entries(1, 5)));
    disk.write(ready(entries(3, 2, 2)));
    disk.sync();
    assert.deepEqual(disk.load().entries.map((e) => [e.index, e.term]), [[1, 1], [2, 1], [3, 2], [4, 2]]);
    disk.saveSnapshot({ meta: { index: 2, term: 1, conf: { voters: [], learners: [], votersOutgoing: [] } }, data: new Uint8Array() });
    assert.deepEqual(disk.load().entries.map((e) => e.index), [3, 4]);
  });

  it('KvStore applies each client request at most once and answers retries the same', () => {
    const kv = new KvStore();
    assert.deepEqual(kv.apply({ client: 1, seq: 1, op: 'append', key: 'k', value: 'a' }), { applied: true, value: undefined });
    assert.deepEqual(kv.apply({ client: 1, seq: 1, op: 'append', key: 'k', value: 'a' }), { applied: true, value: undefined });
    assert.equal(kv.get('k'), 'a');
    assert.deepEqual(kv.apply({ client: 1, seq: 2, op: 'get', key: 'k', value: '' }), { applied: true, value: 'a' });
    assert.deepEqual(kv.apply({ client: 1, seq: 1, op: 'put', key: 'k', value: 'old' }), { applied: false, value: undefined });
    const copy = KvStore.restore(kv.serialize());
    assert.deepEqual(copy.serialize(), kv.serialize());
    assert.deepEqual(copy.apply({ client: 1, seq: 2, op: 'get', key: 'k', value: '' }), { applied: true, value: 'a' });
  });

  it('EventQueue runs events in time order, ties in scheduling order', () => {
    const q = new EventQueue();
    const seen: string[] = [];
    q.after(5, () => seen.push('b'));
    q.after(1, () => seen.push('a'));
    q.after(5, () => {
      seen.push('c');
      q.after(0, () => seen.push('d'));
    });
    q.after(9, () => seen.push('late'));
    while (q.runNext(6));
    assert.deepEqual(seen, ['a', 'b', 'c', 'd']);
    assert.equal(q.now, 5);
  });
});

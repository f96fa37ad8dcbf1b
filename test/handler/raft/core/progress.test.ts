import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Inflights, Progress, ProgressState } from '../../../../handler/raft/core/progress.ts';
import { createPrng } from '../../../../handler/raft/core/prng.ts';
import { SnapshotReceiver } from '../../../../handler/raft/core/snapshot-receiver.ts';

describe('progress and flow control', () => {
  it('Inflights is a ring that frees acknowledged messages in order', () => {
    const inf = new Inflights(3);
    inf.add(5);
    inf.add(7);
    inf.add(9);
    assert.equal(inf.full(), true);
    inf.freeLE(7);
    assert.equal(inf.count, 1);
    inf.add(11);
    inf.add(12);
    assert.equal(inf.full(), true);
    inf.freeLE(100);
    assert.equal(inf.count, 0);
  });

  it('maybeDecrTo() ignores stale rejections in both states', () => {
    const pr = new Progress(10, 4, false);
    pr.maybeUpdate(5);
    pr.becomeReplicate();
    pr.sentEntries(3, 8, 0);
    assert.equal(pr.maybeDecrTo(4, 0), false, 'rejection below match is stale');
    assert.equal(pr.maybeDecrTo(7, 0), true);
    assert.equal(pr.next, 6);
    pr.becomeProbe();
    assert.equal(pr.maybeDecrTo(9, 2), false, 'probe only accepts a rejection of next - 1');
    assert.equal(pr.maybeDecrTo(5, 2), true);
    assert.equal(pr.next, 6, 'never below match + 1');
  });

  it('a probe pauses until answered; replicate pipelines into the window', () => {
    const pr = new Progress(1, 2, false);
    pr.sentEntries(1, 1, 0);
    assert.equal(pr.paused, true);
    assert.equal(pr.state, ProgressState.Probe);
    pr.maybeUpdate(1);
    pr.becomeReplicate();
    pr.sentEntries(2, 3, 0);
    pr.sentEntries(2, 5, 0);
    assert.equal(pr.inflights.full(), true);
    assert.equal(pr.next, 6);
  });

  it('the PRNG is reproducible per seed', () => {
    const a = createPrng(42);
    const b = createPrng(42);
    const c = createPrng(43);
    const sa = Array.from({ length: 5 }, () => a.nextUint32());
    assert.deepEqual(sa, Array.from({ length: 5 }, () => b.nextUint32()));
    assert.notDeepEqual(sa, Array.from({ length: 5 }, () => c.nextUint32()));
    for (let i = 0; i < 100; i++) {
      const f = a.float();
      assert.ok(f >= 0 && f < 1);
    }
  });

  it('SnapshotReceiver reassembles in order and asks to resend after a gap', () => {
    const meta = { index: 9, term: 2, conf: { voters: ['a'], learners: [], votersOutgoing: [] } };
    const data = Uint8Array.from({ length: 10 }, (_, i) => i);
    const rx = new SnapshotReceiver(100);
    const chunk = (offset: number, end: number) => ({ meta, offset, total: 10, data: data.subarray(offset, end) });
    assert.deepEqual(rx.accept(chunk(4, 8)), { kind: 'resend', next: 0 });
    assert.deepEqual(rx.accept(chunk(0, 4)), { kind: 'ack', next: 4 });
    assert.deepEqual(rx.accept(chunk(0, 4)), { kind: 'ack', next: 4 }, 'duplicates are harmless');
    assert.deepEqual(rx.accept(chunk(8, 10)), { kind: 'resend', next: 4 });
    assert.deepEqual(rx.accept(chunk(4, 8)), { kind: 'ack', next: 8 });
    const done = rx.accept(chunk(8, 10));
    assert.equal(done.kind, 'complete');
    if (done.kind === 'complete') assert.deepEqual(done.snapshot.data, data);
    assert.deepEqual(new SnapshotReceiver(5).accept(chunk(0, 4)), { kind: 'ignore' }, 'over maxBytes');
  });
});

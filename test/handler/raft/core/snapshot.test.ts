import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Net, bytes } from './harness.ts';
import { MessageType, Role } from '../../../../handler/raft/types.ts';
import { RaftCore } from '../../../../handler/raft/core/raft.ts';
import { createPrng } from '../../../../handler/raft/core/prng.ts';

const payload = (i: number) => `entry-${i}-${'x'.repeat(40)}`;

describe('raft snapshots', () => {
  it('snapshot install with chunks: a lagging follower is sent the snapshot in bounded chunks', () => {
    const net = new Net(['a', 'b', 'c'], { snapshotChunkBytes: 256, maxInflightSnapshotChunks: 2, compactionMargin: 0 });
    net.campaign('a');
    net.crash('c');
    for (let i = 0; i < 40; i++) net.core('a').propose(bytes(payload(i)));
    net.stabilize();
    const snap = net.snapshot('a');
    assert.ok(snap.data.length > 1024, 'snapshot spans several chunks');
    assert.equal(net.core('a').status().firstIndex, snap.meta.index + 1);
    net.restart('c');
    net.delivered = [];
    net.tick('a', 3);
    const chunks = net.delivered.filter((m) => m.type === MessageType.Snapshot && m.to === 'c');
    assert.equal(chunks.length, Math.ceil(snap.data.length / 256));
    for (const m of chunks) assert.ok(m.snapshot!.data.length <= 256);
    assert.deepEqual(net.appliedData('c'), net.appliedData('a'));
    assert.equal(net.core('c').status().firstIndex, snap.meta.index + 1);
    assert.deepEqual(net.core('c').status().conf.voters, ['a', 'b', 'c']);
    // c keeps following with ordinary appends afterwards.
    net.core('a').propose(bytes('after'));
    net.stabilize();
    assert.equal(net.appliedData('c').at(-1), 'after');
    // The installed snapshot was handed to the driver once, and persisted.
    assert.equal(net.node('c').readies.filter((rd) => rd.snapshot !== null).length, 1);
    assert.equal(net.node('c').storage.snapshot?.meta.index, snap.meta.index);
  });

  it('recovers from lost and reordered snapshot chunks', () => {
    const net = new Net(['a', 'b', 'c'], { snapshotChunkBytes: 128, maxInflightSnapshotChunks: 3, compactionMargin: 0 });
    net.campaign('a');
    net.crash('c');
    for (let i = 0; i < 30; i++) net.core('a').propose(bytes(payload(i)));
    net.stabilize();
    net.snapshot('a');
    net.restart('c');
    let seen = 0;
    net.filters.push((m) => m.type !== MessageType.Snapshot || ++seen % 4 !== 2);
    for (let i = 0; i < 40 && net.appliedData('c').length < 30; i++) net.tick('a', 1);
    assert.deepEqual(net.appliedData('c'), net.appliedData('a'));
  });

  it('a restarted node recovers from its snapshot plus the log after it', () => {
    const net = new Net(['a', 'b', 'c'], { compactionMargin: 0 });
    net.campaign('a');
    for (let i = 0; i < 5; i++) net.core('a').propose(bytes(`s${i}`));
    net.stabilize();
    net.snapshot('b');
    for (let i = 5; i < 8; i++) net.core('a').propose(bytes(`s${i}`));
    net.stabilize();
    net.crash('b');
    net.restart('b');
    assert.deepEqual(net.appliedData('b'), Array.from({ length: 8 }, (_, i) => `s${i}`));
    assert.deepEqual(net.core('b').status().conf.voters, ['a', 'b', 'c']);
  });

  it('keeps compactionMargin entries so a slightly lagging follower gets appends, not a snapshot', () => {
    const net = new Net(['a', 'b', 'c'], { compactionMargin: 100 });
    net.campaign('a');
    net.crash('c');
    for (let i = 0; i < 20; i++) net.core('a').propose(bytes(`m${i}`));
    net.stabilize();
    net.snapshot('a');
    net.restart('c');
    net.delivered = [];
    net.tick('a', 3);
    assert.equal(net.delivered.filter((m) => m.type === MessageType.Snapshot).length, 0);
    assert.equal(net.appliedData('c').length, 20);
  });

  it('a new leader elected from a snapshot-restored node can stream its own snapshot', () => {
    const net = new Net(['a', 'b', 'c'], { compactionMargin: 0, snapshotChunkBytes: 64 });
    net.campaign('a');
    for (let i = 0; i < 10; i++) net.core('a').propose(bytes(`k${i}`));
    net.stabilize();
    net.snapshot('a');
    net.snapshot('b');
    net.crash('c');
    net.core('a').propose(bytes('k10'));
    net.stabilize();
    net.snapshot('a');
    net.snapshot('b');
    net.crash('a');
    net.restart('c');
    for (let i = 0; i < 5 && net.core('b').status().role !== Role.Leader; i++) net.campaign('b');
    net.tick('b', 3);
    assert.deepEqual(net.appliedData('c'), Array.from({ length: 11 }, (_, i) => `k${i}`));
  });

  it('takeSnapshot is refused while a Ready is outstanding', () => {
    const core = new RaftCore({ id: 'x', random: createPrng(1).float, initialVoters: ['x'] });
    core.ready();
    assert.throws(() => core.takeSnapshot(new Uint8Array(0)), { code: 'APFSDS_ERR_PROTOCOL' });
    core.advance();
    const snap = core.takeSnapshot(new Uint8Array(0));
    assert.equal(snap?.meta.index, 1);
    assert.deepEqual(snap?.meta.conf.voters, ['x']);
    assert.equal(core.takeSnapshot(new Uint8Array(0)), null, 'nothing applied since');
  });

  it('takeSnapshot returns null while a snapshot received from the leader awaits installation', () => {
    const net = new Net(['a', 'b', 'c'], { compactionMargin: 0 });
    net.campaign('a');
    net.crash('c');
    for (let i = 0; i < 10; i++) net.core('a').propose(bytes(`q${i}`));
    net.stabilize();
    net.snapshot('a');
    net.restart('c');
    // Intercept the single snapshot chunk for c and step it without handing c's Ready out.
    net.filters.push((m) => m.type !== MessageType.Snapshot);
    net.tick('a', 2);
    const chunk = net.node('a').readies.flatMap((rd) => rd.messages).find((m) => m.type === MessageType.Snapshot);
    assert.ok(chunk, 'the leader sent a snapshot');
    net.core('c').step(chunk);
    assert.ok(net.core('c').status().applied > 0);
    assert.equal(net.core('c').takeSnapshot(bytes('stale')), null);
    net.heal();
    while (net.processReady('c'));
    assert.deepEqual(net.appliedData('c'), Array.from({ length: 10 }, (_, i) => `q${i}`));
    assert.equal(net.core('c').takeSnapshot(bytes('same')), null, 'nothing newer than the installed snapshot');
    net.core('a').propose(bytes('next'));
    net.stabilize();
    assert.notEqual(net.core('c').takeSnapshot(bytes(JSON.stringify(net.appliedData('c')))), null);
  });

  it('restarts when the stored commit lags a snapshot that reached disk first', () => {
    const net = new Net(['a', 'b', 'c'], { compactionMargin: 0 });
    net.campaign('a');
    for (let i = 0; i < 4; i++) net.core('a').propose(bytes(`c${i}`));
    net.stabilize();
    const snap = net.snapshot('b');
    net.node('b').storage.hardState = { ...net.node('b').storage.hardState, commit: snap.meta.index - 2 };
    net.crash('b');
    net.restart('b');
    assert.equal(net.core('b').status().commit, snap.meta.index);
    assert.deepEqual(net.appliedData('b'), ['c0', 'c1', 'c2', 'c3']);
  });
});

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { KvOp, encodeKvCommand } from '../../../../handler/raft/kv-demo/index.ts';
import { ErrorCode } from '../../../../shared/errors.ts';
import { b, startNode, tempDir, valueOf, waitFor, type TestNode } from './helpers.ts';
import { freePorts } from '../../../support/e2e/ports.ts';
import { raftMetrics } from '../../../../shared/metrics/catalog.ts';
import { Registry } from '../../../../shared/metrics/registry.ts';

const put = (k: string, v: string): Uint8Array => encodeKvCommand(KvOp.Put, k, b(v));

describe('raft node on real storage', () => {
  const root = tempDir('single');
  const running: TestNode[] = [];
  after(async () => {
    for (const n of running) await n.node.close();
    root.cleanup();
  });

  async function start(name: string, extra = {}): Promise<TestNode> {
    const [port] = await freePorts(1);
    const n = await startNode('h1', join(root.dir, name), port!, [], extra);
    running.push(n);
    return n;
  }

  it('resolves each proposal with its state machine result, in log order', async () => {
    const n = await start('results');
    await n.node.read();
    const before = n.node.stats();
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => n.node.propose(encodeKvCommand(KvOp.Append, 'log', b(`${i},`)))));
    const indexes = results.map((r) => r.index);
    assert.deepEqual(indexes, [...indexes].sort((x, y) => x - y));
    assert.equal(new Set(indexes).size, 300);
    assert.deepEqual(results.map((r) => r.ok), results.map(() => true));
    assert.equal(results.at(-1)!.size, valueOf(n.machine, 'log')!.length);
    const st = n.node.stats();
    // Proposed in one turn of the event loop: one Ready appends them all under one fdatasync.
    assert.ok(st.storage.syncs - before.storage.syncs <= 3, `300 proposals took ${st.storage.syncs - before.storage.syncs} fsyncs`);
    assert.ok(st.readies - before.readies <= 4, `and ${st.readies - before.readies} Readies`);
  });

  it('leads at once on its first start and after a restart, without an election timeout', async () => {
    // Ticks an hour long: only the immediate campaign of a sole voter can make it leader.
    const slow = { tickIntervalMs: 3_600_000 };
    const first = await start('sole-voter', slow);
    await waitFor('leadership on the first start', () => first.node.isLeader);
    await first.node.close();
    running.splice(running.indexOf(first), 1);
    const again = await startNode('h1', first.dir, first.port, [], slow);
    running.push(again);
    await waitFor('leadership after a restart', () => again.node.isLeader);
    assert.equal((await again.node.propose(put('k', 'v'))).ok, true);
  });

  it('does not take that shortcut when joining, even with a log whose applied membership names only itself', async () => {
    // A replacement for a single founder replays the founder's history, which starts with
    // "{h1} alone". Joining, it must wait for its election timer (an hour here) instead.
    const slow = { tickIntervalMs: 3_600_000 };
    const founder = await start('founder', slow);
    await waitFor('the founder leads', () => founder.node.isLeader);
    await founder.node.propose(put('k', 'v'));
    await founder.node.close();
    running.splice(running.indexOf(founder), 1);
    const replay = join(root.dir, 'replay');
    cpSync(founder.dir, replay, { recursive: true });
    const [port] = await freePorts(1);
    const joiner = await startNode('h1', replay, port!, [], { ...slow, join: true });
    running.push(joiner);
    await waitFor('the replayed log applied', () => joiner.node.raftStatus().applied >= founder.node.raftStatus().commit);
    assert.deepEqual(joiner.node.raftStatus().conf.voters, ['h1']);
    // Every Ready so far ran the check; give the loop a few more turns before looking.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(joiner.node.isLeader, false);
    assert.equal(joiner.node.raftStatus().term, founder.node.raftStatus().term);
  });

  it('keeps its state across a restart', async () => {
    const n = await start('restart');
    for (let i = 0; i < 20; i++) await n.node.propose(put(`k${i}`, `v${i}`));
    await n.node.read();
    const applied = n.node.stats().appliedIndex;
    await n.node.close();
    const again = await startNode('h1', n.dir, n.port, []);
    running.push(again);
    await waitFor('the restarted node to apply its log', () => again.node.stats().appliedIndex >= applied);
    for (let i = 0; i < 20; i++) assert.equal(valueOf(again.machine, `k${i}`), `v${i}`);
    assert.equal((await again.node.propose(put('after', 'x'))).ok, true);
  });

  it('snapshots and compacts the WAL, then restarts from snapshot plus log', async () => {
    const n = await start('snap', { snapshotThreshold: 50, compactionMargin: 5, segmentBytes: 4096 });
    for (let round = 0; round < 10; round++) {
      await Promise.all(Array.from({ length: 25 }, (_, i) => n.node.propose(put(`s${round * 25 + i}`, 'x'.repeat(100)))));
    }
    await waitFor('snapshots to be saved and compacted', () => n.node.stats().storage.segmentsRemoved > 0 && n.node.stats().storage.snapshotsSaved >= 3);
    const before = n.node.stats();
    assert.ok(before.snapshotsTaken >= 3);
    assert.ok(before.firstIndex > 1, 'the in-memory log was compacted too');
    await n.node.close();
    const again = await startNode('h1', n.dir, n.port, [], { snapshotThreshold: 50 });
    running.push(again);
    assert.ok(again.machine.restores === 1, 'the state machine was restored from the snapshot file');
    await waitFor('the log after the snapshot to be re-applied', () => again.node.stats().appliedIndex >= before.appliedIndex);
    assert.equal(again.machine.keys('s').length, 250);
  });

  it('answers a linearizable read once everything committed before it is applied', async () => {
    const n = await start('read');
    const writes = Array.from({ length: 50 }, (_, i) => n.node.propose(put(`r${i}`, 'x')));
    await Promise.all(writes);
    await n.node.read();
    assert.equal(n.machine.keys('r').length, 50);
  });

  it('rejects waiting proposals with CLOSED when closed, and later ones at once', async () => {
    const n = await start('close');
    await n.node.propose(put('a', 'b'));
    await n.node.close();
    await assert.rejects(n.node.propose(put('a', 'c')), { code: ErrorCode.CLOSED });
    await assert.rejects(n.node.read(), { code: ErrorCode.CLOSED });
  });

  it('rejects a proposal whose signal is already aborted with ABORTED', async () => {
    const n = await start('abort');
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(n.node.propose(put('a', 'b'), ac.signal), { code: ErrorCode.ABORTED });
  });

  it('keeps the raft gauges and the leader-change counter current', async () => {
    const metrics = raftMetrics(new Registry());
    const n = await start('metrics', { metrics });
    const r = await n.node.propose(put('a', 'b'));
    await waitFor('the gauges to catch up', () => metrics.appliedIndex.get() >= r.index);
    assert.equal(metrics.isLeader.get(), 1);
    assert.equal(metrics.hasLeader.get(), 1);
    assert.ok(metrics.term.get() >= 1);
    assert.ok(metrics.commitIndex.get() >= r.index);
    assert.equal(metrics.leaderChanges.get(), 1);
  });

  it('reports its status in the admin API shape', async () => {
    const n = await start('status');
    await n.node.propose(put('a', 'b'));
    const st = await n.node.status();
    assert.equal(st.nodeId, 'h1');
    assert.equal(st.role, 'leader');
    assert.equal(st.leader, 'h1');
    assert.ok(st.commitIndex >= 2 && st.appliedIndex === st.commitIndex);
    assert.deepEqual(st.members.map((m) => [m.id, m.suffrage]), [['h1', 'voter']]);
  });
});

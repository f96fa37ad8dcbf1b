import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { KvOp, encodeKvCommand } from '../../../../handler/raft/kv-demo/index.ts';
import { ErrorCode } from '../../../../shared/errors.ts';
import { freePorts } from '../../../support/e2e/ports.ts';
import { b, startCluster, startNode, valueOf, waitFor, waitForLeader, type TestNode } from './helpers.ts';

const put = (k: string, v: string): Uint8Array => encodeKvCommand(KvOp.Put, k, b(v));

describe('three raft nodes in one process over real links', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  async function cluster(name: string, extra = {}) {
    const c = await startCluster(name, 3, extra);
    const live = new Set<TestNode>(c.nodes);
    cleanups.push(async () => {
      for (const n of live) await n.node.close();
      c.root.cleanup();
    });
    return { ...c, live };
  }

  it('elects one leader; a follower forwards proposals and gets the results', async () => {
    const c = await cluster('forward');
    const leader = await waitForLeader(c.nodes);
    const follower = c.nodes.find((n) => n !== leader)!;
    const rs = await Promise.all(Array.from({ length: 100 }, (_, i) => follower.node.propose(put(`f${i}`, `${i}`))));
    assert.ok(rs.every((r) => r.ok && r.index > 0));
    // The proposer applied its own entries; a read on the third node sees them too.
    const third = c.nodes.find((n) => n !== leader && n !== follower)!;
    await third.node.read();
    assert.equal(valueOf(third.machine, 'f99'), '99');
    assert.equal(valueOf(leader.machine, 'f0'), '0');
  });

  it('survives losing the leader: a new one is elected and waiting proposals commit', async () => {
    const c = await cluster('failover');
    const leader = await waitForLeader(c.nodes);
    for (let i = 0; i < 20; i++) await leader.node.propose(put(`before${i}`, 'x'));
    await leader.node.close();
    c.live.delete(leader);
    const rest = c.nodes.filter((n) => n !== leader);
    // Proposed right away, likely while no leader is known: parked, then committed.
    const pending = rest[0]!.node.propose(put('after', 'y'));
    const next = await waitForLeader(rest);
    assert.notEqual(next.id, leader.id);
    assert.equal((await pending).ok, true);
    await rest[1]!.node.read();
    for (let i = 0; i < 20; i++) assert.equal(valueOf(rest[1]!.machine, `before${i}`), 'x');
    assert.equal(valueOf(rest[1]!.machine, 'after'), 'y');
  });

  it('brings a node that missed compacted entries back through a snapshot', async () => {
    const c = await cluster('catchup', { snapshotThreshold: 40, compactionMargin: 5 });
    const leader = await waitForLeader(c.nodes);
    const lagging = c.nodes.find((n) => n !== leader)!;
    await lagging.node.close();
    c.live.delete(lagging);
    for (let round = 0; round < 8; round++) {
      await Promise.all(Array.from({ length: 25 }, (_, i) => leader.node.propose(put(`c${round * 25 + i}`, 'v'))));
    }
    assert.ok(leader.node.stats().firstIndex > lagging.node.stats().lastIndex + 1, 'the leader compacted past the lagging log');
    const back = await startNode(lagging.id, lagging.dir, lagging.port, c.peers, { snapshotThreshold: 40, compactionMargin: 5 });
    c.live.add(back);
    await waitFor('the restarted node to install a snapshot and catch up', () => {
      const st = back.node.stats();
      return st.snapshotsInstalled >= 1 && st.appliedIndex >= leader.node.stats().commitIndex;
    });
    assert.equal(back.machine.keys('c').length, 200);
  });

  it('adds a learner, promotes it, transfers leadership to it and removes a member', async () => {
    const c = await cluster('members');
    const leader = await waitForLeader(c.nodes);
    await leader.node.propose(put('m', '1'));
    const [port] = await freePorts(1);
    const url = `ws://127.0.0.1:${port}/raft`;
    // The new node starts empty, knowing where the members are, and waits for the leader.
    const h4 = await startNode('h4', join(c.root.dir, 'h4'), port!, [...c.peers, { id: 'h4', url }], { join: true });
    c.live.add(h4);
    const follower = c.nodes.find((n) => n !== leader)!;
    // Asked on a follower: forwarded to the leader.
    await follower.node.addLearner({ id: 'h4', url });
    await waitFor('the learner to catch up', () => valueOf(h4.machine, 'm') === '1');
    let st = await leader.node.status();
    assert.deepEqual(st.members.find((m) => m.id === 'h4'), { id: 'h4', url, suffrage: 'learner', matchIndex: st.members.find((m) => m.id === 'h4')!.matchIndex, active: true });
    await leader.node.promoteLearner('h4');
    st = await leader.node.status();
    assert.equal(st.members.find((m) => m.id === 'h4')?.suffrage, 'voter');
    await waitFor('h4 to apply the promotion', () => h4.node.raftStatus().conf.voters.includes('h4'));
    await leader.node.transferLeadership('h4');
    await waitFor('h4 to lead', () => h4.node.isLeader);
    const removed = c.nodes.find((n) => n !== leader && n !== follower)!;
    await h4.node.removeMember(removed.id);
    st = await h4.node.status();
    assert.deepEqual(st.members.map((m) => m.id).sort(), [leader.id, follower.id, 'h4'].sort());
    assert.equal((await follower.node.propose(put('m', '2'))).ok, true);
    await assert.rejects(h4.node.removeMember('nobody'), { code: ErrorCode.NOT_FOUND });
  });

  it('answers NOT_LEADER with nobody to ask, and TIMEOUT for a proposal that cannot commit', async () => {
    const c = await cluster('minority', { proposalTimeoutMs: 300 });
    await waitForLeader(c.nodes);
    const [a, b2, lone] = c.nodes;
    await a!.node.close();
    await b2!.node.close();
    c.live.delete(a!);
    c.live.delete(b2!);
    await assert.rejects(lone!.node.propose(put('x', 'y')), { code: ErrorCode.TIMEOUT });
    await waitFor('the lone node to lose its leader', () => lone!.node.leader === '' || lone!.node.leader === lone!.id);
    if (lone!.node.leader === '') await assert.rejects(lone!.node.addMember({ id: 'h9', url: 'ws://127.0.0.1:1/raft' }), { code: ErrorCode.NOT_LEADER });
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Net, bytes } from './harness.ts';
import { MessageType, Role } from '../../../../handler/raft/types.ts';

const appendsTo = (net: Net, to: string) =>
  net.delivered.filter((m) => m.type === MessageType.Append && m.to === to && m.entries.length > 0);

describe('raft replication', () => {
  it('replicates and applies proposals in order on every node', () => {
    const net = new Net(['a', 'b', 'c']);
    net.campaign('a');
    for (let i = 0; i < 10; i++) net.core('a').propose(bytes(`v${i}`));
    net.stabilize();
    const want = Array.from({ length: 10 }, (_, i) => `v${i}`);
    for (const id of ['a', 'b', 'c']) assert.deepEqual(net.appliedData(id), want);
  });

  it('batches proposals made between two Readies into one AppendEntries per follower', () => {
    const net = new Net(['a', 'b', 'c']);
    net.campaign('a');
    net.delivered = [];
    for (let i = 0; i < 200; i++) net.core('a').propose(bytes(`p${i}`));
    net.stabilize();
    const toB = appendsTo(net, 'b');
    assert.equal(toB.length, 1);
    assert.equal(toB[0]!.entries.length, 200);
  });

  it('splits batches at maxSizePerMsg and pipelines at most maxInflightMsgs per follower', () => {
    const net = new Net(['a', 'b', 'c'], { maxSizePerMsg: 1, maxInflightMsgs: 4 });
    net.campaign('a');
    for (let i = 0; i < 20; i++) net.core('a').propose(bytes(`p${i}`));
    const rd = net.core('a').ready();
    const toB = rd.messages.filter((m) => m.type === MessageType.Append && m.to === 'b');
    assert.equal(toB.length, 4, 'window of 4 in flight');
    for (const m of toB) assert.equal(m.entries.length, 1);
    assert.deepEqual(toB.map((m) => m.entries[0]!.index), [toB[0]!.entries[0]!.index, toB[0]!.entries[0]!.index + 1, toB[0]!.entries[0]!.index + 2, toB[0]!.entries[0]!.index + 3]);
    net.node('a').storage.save(rd);
    net.queue.push(...rd.messages, ...rd.messagesAfterPersist);
    net.core('a').advance();
    net.stabilize();
    assert.equal(net.appliedData('b').length, 20);
  });

  it('the leader sends appends before persisting its own entries, followers reply only after', () => {
    const net = new Net(['a', 'b', 'c']);
    net.campaign('a');
    net.core('a').propose(bytes('x'));
    const rd = net.core('a').ready();
    assert.equal(rd.entries.length, 1);
    assert.equal(rd.messages.filter((m) => m.type === MessageType.Append).length, 2);
    assert.equal(rd.messagesAfterPersist.length, 0);
    net.core('a').advance();
    net.core('b').step(rd.messages.find((m) => m.to === 'b')!);
    const frd = net.core('b').ready();
    assert.equal(frd.entries.length, 1);
    assert.equal(frd.mustSync, true);
    assert.equal(frd.messages.length, 0);
    assert.equal(frd.messagesAfterPersist[0]!.type, MessageType.AppendResp);
    net.core('b').advance();
  });

  it('the leader counts itself toward commit only once its own entries are persisted', () => {
    const net = new Net(['a', 'b', 'c']);
    net.campaign('a');
    const before = net.core('a').status().commit;
    net.core('a').propose(bytes('x'));
    const rd = net.core('a').ready();
    // b acknowledges before a's own write has completed: one of three is not a majority.
    net.core('b').step(rd.messages.find((m) => m.to === 'b')!);
    const brd = net.core('b').ready();
    net.core('b').advance();
    net.core('a').step(brd.messagesAfterPersist[0]!);
    assert.equal(net.core('a').status().commit, before);
    net.core('a').advance();
    assert.equal(net.core('a').status().commit, before + 1);
  });

  it('a leader without a majority does not commit', () => {
    const net = new Net(['a', 'b', 'c'], { checkQuorum: false });
    net.campaign('a');
    const commit = net.core('a').status().commit;
    net.partition(['a'], ['b', 'c']);
    net.core('a').propose(bytes('lonely'));
    net.tick('a', 5);
    assert.equal(net.core('a').status().commit, commit);
    assert.deepEqual(net.appliedData('a'), []);
  });

  it('repairs a lost append (the next probe or heartbeat finds the gap)', () => {
    const net = new Net(['a', 'b', 'c']);
    net.campaign('a');
    let dropped = 0;
    net.filters.push((m) => {
      if (m.type === MessageType.Append && m.to === 'c' && m.entries.length > 0 && dropped === 0) {
        dropped++;
        return false;
      }
      return true;
    });
    net.core('a').propose(bytes('one'));
    net.stabilize();
    net.tick('a', 2);
    assert.equal(dropped, 1);
    assert.deepEqual(net.appliedData('c'), ['one']);
  });

  it('ignores duplicated and reordered appends', () => {
    const net = new Net(['a', 'b', 'c']);
    net.campaign('a');
    net.core('a').propose(bytes('1'));
    net.stabilize();
    const old = net.delivered.filter((m) => m.type === MessageType.Append && m.to === 'b');
    net.core('a').propose(bytes('2'));
    net.stabilize();
    for (const m of old.reverse()) net.core('b').step(m);
    net.stabilize();
    assert.deepEqual(net.appliedData('b'), ['1', '2']);
    assert.equal(net.core('b').status().lastIndex, net.core('a').status().lastIndex);
  });

  it('finds the match point of a long divergent follower log in a few round trips', () => {
    const net = new Net(['a', 'b', 'c'], { checkQuorum: false, preVote: false });
    net.campaign('a');
    // a, isolated, appends 50 entries of term 2 that nobody else gets.
    net.partition(['a'], ['b', 'c']);
    for (let i = 0; i < 50; i++) net.core('a').propose(bytes(`lost${i}`));
    net.stabilize();
    // b leads term 3 with c and commits 50 entries of its own.
    net.campaign('b');
    assert.equal(net.core('b').status().role, Role.Leader);
    for (let i = 0; i < 50; i++) net.core('b').propose(bytes(`kept${i}`));
    net.stabilize();
    net.heal();
    net.delivered = [];
    net.tick('b', 3);
    const rejections = net.delivered.filter((m) => m.type === MessageType.AppendResp && m.from === 'a' && m.reject);
    assert.ok(rejections.length <= 3, `${rejections.length} rejections`);
    assert.equal(net.core('a').status().role, Role.Follower);
    assert.deepEqual(net.appliedData('a'), Array.from({ length: 50 }, (_, i) => `kept${i}`));
  });

  it('a restarted follower catches up from its persisted log', () => {
    const net = new Net(['a', 'b', 'c']);
    net.campaign('a');
    net.core('a').propose(bytes('before'));
    net.stabilize();
    net.crash('c');
    net.core('a').propose(bytes('during'));
    net.stabilize();
    net.restart('c');
    assert.deepEqual(net.appliedData('c'), ['before']);
    net.tick('a', 2);
    assert.deepEqual(net.appliedData('c'), ['before', 'during']);
  });

  it('forwards a follower proposal to the leader', () => {
    const net = new Net(['a', 'b', 'c']);
    net.campaign('a');
    net.core('c').propose(bytes('via-c'));
    net.stabilize();
    for (const id of ['a', 'b', 'c']) assert.deepEqual(net.appliedData(id), ['via-c']);
  });

  it('refuses proposals without a known leader and past the uncommitted limit', () => {
    const net = new Net(['a', 'b', 'c'], { maxUncommittedBytes: 100, checkQuorum: false });
    assert.throws(() => net.core('a').propose(bytes('x')), { code: 'APFSDS_ERR_NOT_LEADER' });
    net.campaign('a');
    net.partition(['a'], ['b', 'c']);
    net.core('a').propose(new Uint8Array(60));
    assert.throws(() => net.core('a').propose(new Uint8Array(60)), { code: 'APFSDS_ERR_PROPOSAL_DROPPED' });
  });

  it('rejects ready() twice and advance() without ready()', () => {
    const net = new Net(['a', 'b', 'c']);
    net.campaign('a');
    net.core('a').propose(bytes('x'));
    net.core('a').ready();
    assert.equal(net.core('a').hasReady(), false);
    assert.throws(() => net.core('a').ready(), { code: 'APFSDS_ERR_PROTOCOL' });
    net.core('a').advance();
    assert.throws(() => net.core('a').advance(), { code: 'APFSDS_ERR_PROTOCOL' });
  });

  it('hard state carries commit without forcing an fsync when only commit moved', () => {
    const net = new Net(['a', 'b', 'c']);
    net.campaign('a');
    net.core('a').propose(bytes('x'));
    net.processReady('a');
    for (const m of net.queue.splice(0)) net.deliver(m);
    net.processReady('b');
    net.processReady('c');
    for (const m of net.queue.splice(0)) net.deliver(m);
    const rd = net.core('a').ready();
    assert.ok(rd.hardState !== null);
    assert.equal(rd.entries.length, 0);
    assert.equal(rd.mustSync, false);
    assert.deepEqual(rd.committedEntries.map((e) => new TextDecoder().decode(e.data)), ['x']);
    net.core('a').advance();
  });
});

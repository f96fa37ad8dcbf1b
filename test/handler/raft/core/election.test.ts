import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Net, bytes } from './harness.ts';
import { ConfChangeType, EntryType, MessageType, Role } from '../../../../handler/raft/types.ts';
import { RaftCore } from '../../../../handler/raft/core/index.ts';
import { newMessage } from '../../../../handler/raft/core/messages.ts';

describe('raft elections', () => {
  it('elects exactly one leader after an election timeout', () => {
    const net = new Net(['a', 'b', 'c']);
    net.tickAll(25);
    const leaders = [...net.nodes.values()].filter((n) => n.core.status().role === Role.Leader);
    assert.equal(leaders.length, 1);
    const term = leaders[0]!.core.status().term;
    for (const n of net.nodes.values()) {
      assert.equal(n.core.status().term, term);
      assert.equal(n.core.status().lead, leaders[0]!.id);
    }
  });

  it('a single voter elects itself and commits alone', () => {
    const net = new Net(['solo']);
    net.campaign('solo');
    assert.equal(net.core('solo').status().role, Role.Leader);
    net.core('solo').propose(bytes('x'));
    net.stabilize();
    assert.deepEqual(net.appliedData('solo'), ['x']);
  });

  it('campaignIfSoleVoter: a sole voter leads at once, but not while its log adds another voter or it knows a leader', () => {
    const net = new Net(['a']);
    assert.equal(net.core('a').campaignIfSoleVoter(), true);
    net.stabilize();
    assert.equal(net.core('a').status().role, Role.Leader);
    assert.equal(net.core('a').campaignIfSoleVoter(), false, 'a leader does not campaign');
    net.core('a').proposeConfChange({ type: ConfChangeType.AddNode, node: 'b' });
    net.stabilize();
    const stored = net.node('a').storage.stored();
    const added = stored.entries.findLast((e) => e.type === EntryType.ConfChange)!;
    // A restart whose saved commit index stops short of the AddNode b entry (a commit-only
    // change need not be durable): the applied membership is {a}, the log's newest is {a, b}.
    const lagging = new RaftCore(
      { electionTick: 10, heartbeatTick: 1, id: 'a', random: () => 0.5 },
      { ...stored, hardState: { ...stored.hardState, commit: added.index - 1 } },
    );
    // Like a driver at startup: apply what is committed.
    for (let i = 0; i < 10 && lagging.hasReady(); i++) {
      lagging.ready();
      lagging.advance();
    }
    assert.deepEqual(lagging.status().conf.voters, ['a']);
    assert.equal(lagging.campaignIfSoleVoter(), false);
    assert.equal(lagging.status().role, Role.Follower);
    // The timer still works for it as for any member.
    for (let i = 0; i < 25 && lagging.status().role === Role.Follower; i++) lagging.tick();
    assert.notEqual(lagging.status().role, Role.Follower);
    // A sole voter that knows a leader leaves it be.
    const solo = new Net(['s']);
    const heartbeat = newMessage(MessageType.Heartbeat, 'x', 's', 5);
    solo.core('s').step(heartbeat);
    assert.equal(solo.core('s').status().lead, 'x');
    assert.equal(solo.core('s').campaignIfSoleVoter(), false);
  });

  it('vote persistence across a crash: a restarted voter does not vote twice in a term', () => {
    const net = new Net(['a', 'b', 'c'], { preVote: false });
    // c is cut off so that a's election involves only a and b.
    net.crash('c');
    net.campaign('a');
    assert.equal(net.core('a').status().role, Role.Leader);
    const term = net.core('a').status().term;
    // The ready that carried b's vote persisted it before the VoteResp was released.
    const voteReady = net.node('b').readies.find((rd) => rd.messagesAfterPersist.some((m) => m.type === MessageType.VoteResp && !m.reject));
    assert.ok(voteReady, 'b granted a vote');
    assert.equal(voteReady.hardState?.vote, 'a');
    assert.equal(voteReady.mustSync, true);
    assert.equal(voteReady.messages.length, 0, 'no follower reply leaves before persistence');

    net.crash('b');
    net.restart('b');
    assert.equal(net.core('b').status().term, term);
    assert.equal(net.core('b').status().vote, 'a');

    // A vote request from another candidate in the same term is refused.
    const req = newMessage(MessageType.Vote, 'c', 'b', term);
    req.index = 100;
    req.logTerm = term;
    net.core('b').step(req);
    const rd = net.core('b').ready();
    const resp = rd.messagesAfterPersist.find((m) => m.type === MessageType.VoteResp);
    assert.ok(resp);
    assert.equal(resp.reject, true);
    net.core('b').advance();
  });

  it('a candidate whose vote request is lost before persistence never counts that vote', () => {
    const net = new Net(['a', 'b', 'c'], { preVote: false });
    net.core('a').campaign();
    const rd = net.core('a').ready();
    // Vote requests depend on the candidate's persisted self-vote.
    assert.equal(rd.messages.length, 0);
    assert.equal(rd.messagesAfterPersist.filter((m) => m.type === MessageType.Vote).length, 2);
    assert.equal(rd.hardState?.vote, 'a');
    assert.equal(rd.mustSync, true);
    net.core('a').advance();
  });

  it('pre-vote does not disrupt a stable leader', () => {
    const net = new Net(['a', 'b', 'c'], { preVote: true, checkQuorum: true });
    net.campaign('a');
    const term = net.core('a').status().term;
    // c is partitioned away, times out repeatedly and pre-campaigns; its term must not grow.
    net.partition(['c'], ['a', 'b']);
    for (let i = 0; i < 60; i++) {
      net.core('c').tick();
      net.core('a').tick();
      net.core('b').tick();
      net.stabilize();
    }
    assert.equal(net.core('c').status().term, term, 'pre-candidate never bumped its term');
    net.heal();
    net.tickAll(5);
    assert.equal(net.core('a').status().role, Role.Leader);
    assert.equal(net.core('a').status().term, term);
    assert.equal(net.core('c').status().lead, 'a');
  });

  it('without pre-vote a rejoining node disrupts the leader (the contrast case)', () => {
    const net = new Net(['a', 'b', 'c'], { preVote: false, checkQuorum: false });
    net.campaign('a');
    const term = net.core('a').status().term;
    net.partition(['c'], ['a', 'b']);
    net.tick('c', 30);
    net.heal();
    net.tickAll(25);
    assert.ok(net.core('a').status().term > term);
  });

  it('a node in a leader lease ignores pre-votes from a partitioned peer', () => {
    const net = new Net(['a', 'b', 'c'], { preVote: true, checkQuorum: true });
    net.campaign('a');
    const term = net.core('a').status().term;
    const pv = newMessage(MessageType.PreVote, 'c', 'b', term + 1);
    pv.index = 1000;
    pv.logTerm = term;
    net.core('b').step(pv);
    assert.equal(net.core('b').hasReady(), false, 'no reply while the lease holds');
  });

  it('check-quorum steps down an isolated leader', () => {
    const net = new Net(['a', 'b', 'c'], { checkQuorum: true });
    net.campaign('a');
    assert.equal(net.core('a').status().role, Role.Leader);
    net.partition(['a'], ['b', 'c']);
    net.tick('a', 25);
    assert.equal(net.core('a').status().role, Role.Follower);
    assert.equal(net.core('a').status().lead, '');
  });

  it('a leader without check-quorum stays leader when isolated', () => {
    const net = new Net(['a', 'b', 'c'], { checkQuorum: false });
    net.campaign('a');
    net.partition(['a'], ['b', 'c']);
    net.tick('a', 25);
    assert.equal(net.core('a').status().role, Role.Leader);
  });

  it('a stale leader learns the new term from a reply to its append and steps down', () => {
    const net = new Net(['a', 'b', 'c'], { checkQuorum: true, preVote: true });
    net.campaign('a');
    net.partition(['a'], ['b', 'c']);
    net.tickAll(30);
    const lead = net.leader();
    assert.ok(lead === 'b' || lead === 'c');
    net.heal();
    net.tickAll(3);
    assert.equal(net.leader(), lead);
    assert.equal(net.core('a').status().role, Role.Follower);
    assert.equal(net.core('a').status().lead, lead);
  });

  it('a candidate with a shorter log loses the election', () => {
    const net = new Net(['a', 'b', 'c'], { preVote: false });
    net.campaign('a');
    net.crash('c');
    net.core('a').propose(bytes('only-on-a-and-b'));
    net.stabilize();
    net.restart('c');
    net.crash('a');
    for (let i = 0; i < 3; i++) {
      net.campaign('c');
      assert.notEqual(net.core('c').status().role, Role.Leader);
    }
    // b may need several rounds: c is a candidate in a higher term that already voted for itself.
    for (let i = 0; i < 10 && net.core('b').status().role !== Role.Leader; i++) net.campaign('b');
    assert.equal(net.core('b').status().role, Role.Leader);
  });

  it('does not campaign with a committed but unapplied conf change in its log', () => {
    const net = new Net([]);
    const node = net.add('a', ['a', 'b', 'c']);
    net.add('b', ['a', 'b', 'c']);
    net.add('c', ['a', 'b', 'c']);
    const core = node.core;
    // The bootstrap conf entries are committed but not yet applied before the first Ready.
    core.campaign();
    assert.equal(core.status().role, Role.Follower);
    net.stabilize();
    core.campaign();
    assert.notEqual(core.status().role, Role.Follower);
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Net, bytes } from './harness.ts';
import { ConfChangeType, MessageType, Role } from '../../../../handler/raft/types.ts';
import { newMessage } from '../../../../handler/raft/core/messages.ts';

describe('raft membership', () => {
  it('adds a learner that receives the log from index 1 but never votes or counts', () => {
    const net = new Net(['a', 'b', 'c']);
    net.campaign('a');
    net.core('a').propose(bytes('x'));
    net.stabilize();
    net.add('d', []);
    net.core('a').proposeConfChange({ type: ConfChangeType.AddLearner, node: 'd' });
    net.stabilize();
    net.tick('a', 3);
    assert.deepEqual(net.core('a').status().conf.learners, ['d']);
    assert.deepEqual(net.appliedData('d'), ['x']);
    assert.deepEqual(net.core('d').status().conf.voters, ['a', 'b', 'c']);
    assert.deepEqual(net.core('d').status().conf.learners, ['d']);
    // A learner never campaigns, however long it waits.
    net.partition(['d'], ['a', 'b', 'c']);
    net.tick('d', 50);
    assert.equal(net.core('d').status().role, Role.Follower);
    assert.equal(net.delivered.filter((m) => m.from === 'd' && (m.type === MessageType.Vote || m.type === MessageType.PreVote)).length, 0);
  });

  it('learner does not vote: its grant never completes a quorum', () => {
    const net = new Net(['a', 'b'], { preVote: false, checkQuorum: false }, ['l']);
    net.crash('b');
    net.delivered = [];
    net.campaign('a');
    assert.equal(net.core('a').status().role, Role.Candidate);
    assert.equal(net.delivered.filter((m) => m.type === MessageType.Vote && m.to === 'l').length, 0, 'learners are not asked');
    // Even a forged grant from the learner does not make one of two voters a majority.
    const grant = newMessage(MessageType.VoteResp, 'l', 'a', net.core('a').status().term);
    net.core('a').step(grant);
    assert.equal(net.core('a').status().role, Role.Candidate);
    // Commit is counted over voters only: with b down, the learner's copy does not commit.
    net.restart('b');
    for (let i = 0; i < 3 && net.leader() === undefined; i++) net.campaign('a');
    assert.equal(net.leader(), 'a');
    const commit = net.core('a').status().commit;
    net.crash('b');
    net.core('a').propose(bytes('needs-b'));
    net.stabilize();
    assert.equal(net.core('a').status().commit, commit);
    assert.equal(net.core('l').status().lastIndex, net.core('a').status().lastIndex, 'the learner did receive it');
  });

  it('promotes a learner to voter', () => {
    const net = new Net(['a', 'b', 'c'], {}, ['d']);
    net.campaign('a');
    net.core('a').proposeConfChange({ type: ConfChangeType.AddNode, node: 'd' });
    net.stabilize();
    for (const id of ['a', 'b', 'c', 'd']) assert.deepEqual(net.core(id).status().conf.voters, ['a', 'b', 'c', 'd']);
    assert.deepEqual(net.core('a').status().conf.learners, []);
  });

  it('one-at-a-time conf change rejected while pending', () => {
    const net = new Net(['a', 'b', 'c']);
    net.campaign('a');
    net.add('d', []);
    net.add('e', []);
    net.partition(['a'], ['b', 'c', 'd', 'e']);
    net.core('a').proposeConfChange({ type: ConfChangeType.AddLearner, node: 'd' });
    assert.throws(() => net.core('a').proposeConfChange({ type: ConfChangeType.AddLearner, node: 'e' }), { code: 'APFSDS_ERR_CONF_CHANGE_REJECTED' });
    net.heal();
    net.tick('a', 2);
    assert.deepEqual(net.core('a').status().conf.learners, ['d']);
    net.core('a').proposeConfChange({ type: ConfChangeType.AddLearner, node: 'e' });
    net.stabilize();
    assert.deepEqual(net.core('a').status().conf.learners, ['d', 'e']);
  });

  it('a new leader refuses conf changes until it commits an entry of its term', () => {
    const net = new Net(['a', 'b', 'c'], { preVote: false, checkQuorum: false });
    net.campaign('a');
    net.filters.push((m) => m.type !== MessageType.AppendResp);
    net.core('a').tick();
    net.campaign('b');
    if (net.core('b').status().role !== Role.Leader) net.campaign('b');
    assert.equal(net.core('b').status().role, Role.Leader);
    assert.throws(() => net.core('b').proposeConfChange({ type: ConfChangeType.RemoveNode, node: 'c' }), { code: 'APFSDS_ERR_CONF_CHANGE_REJECTED' });
    net.heal();
    net.tick('b', 2);
    net.core('b').proposeConfChange({ type: ConfChangeType.RemoveNode, node: 'c' });
    net.stabilize();
    assert.deepEqual(net.core('b').status().conf.voters, ['a', 'b']);
  });

  it('refuses a change that leaves no voters and conf changes on followers', () => {
    const net = new Net(['solo', 'f'], {}, []);
    net.campaign('solo');
    assert.throws(() => net.core('f').proposeConfChange({ type: ConfChangeType.AddNode, node: 'z' }), { code: 'APFSDS_ERR_NOT_LEADER' });
    net.core('solo').proposeConfChange({ type: ConfChangeType.RemoveNode, node: 'f' });
    net.stabilize();
    assert.throws(() => net.core('solo').proposeConfChange({ type: ConfChangeType.RemoveNode, node: 'solo' }), { code: 'APFSDS_ERR_CONF_CHANGE_REJECTED' });
  });

  it('a removed leader steps down and the rest elect a new one', () => {
    const net = new Net(['a', 'b', 'c']);
    net.campaign('a');
    net.core('a').proposeConfChange({ type: ConfChangeType.RemoveNode, node: 'a' });
    net.stabilize();
    assert.equal(net.core('a').status().role, Role.Follower);
    assert.deepEqual(net.core('b').status().conf.voters, ['b', 'c']);
    net.tickAll(30);
    const lead = net.leader();
    assert.ok(lead === 'b' || lead === 'c');
    net.core(lead).propose(bytes('after'));
    net.stabilize();
    assert.deepEqual(net.appliedData('b'), ['after']);
    // The removed node neither campaigns nor disrupts.
    assert.equal(net.core('a').status().role, Role.Follower);
  });

  it('removing a voter lets a smaller quorum commit', () => {
    const net = new Net(['a', 'b', 'c', 'd']);
    net.campaign('a');
    net.core('a').proposeConfChange({ type: ConfChangeType.RemoveNode, node: 'd' });
    net.stabilize();
    net.crash('d');
    net.crash('c');
    net.core('a').propose(bytes('with-a-and-b'));
    net.stabilize();
    assert.deepEqual(net.appliedData('b'), ['with-a-and-b']);
  });
});

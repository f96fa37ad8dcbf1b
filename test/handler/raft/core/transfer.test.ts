import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Net, bytes } from './harness.ts';
import { MessageType, Role } from '../../../../handler/raft/types.ts';

describe('raft leader transfer', () => {
  it('leader transfer moves leadership to an up-to-date voter via TimeoutNow', () => {
    const net = new Net(['a', 'b', 'c']);
    net.campaign('a');
    const term = net.core('a').status().term;
    net.core('a').transferLeader('b');
    net.stabilize();
    assert.equal(net.leader(), 'b');
    assert.equal(net.core('b').status().term, term + 1);
    assert.ok(net.delivered.some((m) => m.type === MessageType.TimeoutNow && m.to === 'b'));
  });

  it('catches a lagging transferee up before sending TimeoutNow', () => {
    const net = new Net(['a', 'b', 'c']);
    net.campaign('a');
    net.crash('c');
    for (let i = 0; i < 5; i++) net.core('a').propose(bytes(`x${i}`));
    net.stabilize();
    net.restart('c');
    net.delivered = [];
    net.core('a').transferLeader('c');
    assert.throws(() => net.core('a').propose(bytes('during')), { code: 'APFSDS_ERR_PROPOSAL_DROPPED' });
    const last = net.core('a').status().lastIndex;
    net.tick('a', 2);
    assert.equal(net.leader(), 'c');
    const timeoutAt = net.delivered.findIndex((m) => m.type === MessageType.TimeoutNow);
    const lastAppend = net.delivered.findIndex((m) => m.type === MessageType.AppendResp && m.from === 'c' && m.index === last);
    assert.ok(lastAppend >= 0 && lastAppend < timeoutAt, 'c was caught up first');
    assert.equal(net.appliedData('c').length, 5);
  });

  it('aborts a transfer that does not finish within an election timeout', () => {
    const net = new Net(['a', 'b', 'c']);
    net.campaign('a');
    net.crash('b');
    net.core('a').propose(bytes('x'));
    net.stabilize();
    net.core('a').transferLeader('b');
    assert.equal(net.core('a').status().leadTransferee, 'b');
    net.tick('a', 11);
    assert.equal(net.core('a').status().leadTransferee, '');
    assert.equal(net.core('a').status().role, Role.Leader);
    net.core('a').propose(bytes('accepted again'));
  });

  it('refuses transfers to learners and non-members, and on followers', () => {
    const net = new Net(['a', 'b'], {}, ['l']);
    net.campaign('a');
    assert.throws(() => net.core('a').transferLeader('l'), { code: 'APFSDS_ERR_TRANSFER_REJECTED' });
    assert.throws(() => net.core('a').transferLeader('zz'), { code: 'APFSDS_ERR_TRANSFER_REJECTED' });
    assert.throws(() => net.core('b').transferLeader('a'), { code: 'APFSDS_ERR_NOT_LEADER' });
  });

  it('a transfer election overrides the leader lease of other followers', () => {
    const net = new Net(['a', 'b', 'c'], { checkQuorum: true, preVote: true });
    net.campaign('a');
    net.tickAll(2);
    net.core('a').transferLeader('c');
    net.stabilize();
    assert.equal(net.leader(), 'c');
  });
});

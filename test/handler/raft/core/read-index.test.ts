import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Net, bytes, str } from './harness.ts';
import { MessageType, Role } from '../../../../handler/raft/types.ts';

describe('raft ReadIndex', () => {
  it('is confirmed by a heartbeat quorum and reports the commit index', () => {
    const net = new Net(['a', 'b', 'c']);
    net.campaign('a');
    net.core('a').propose(bytes('w'));
    net.stabilize();
    net.delivered = [];
    net.core('a').readIndex(bytes('r1'));
    net.stabilize();
    const rs = net.node('a').readStates;
    assert.equal(rs.length, 1);
    assert.equal(str(rs[0]!.context), 'r1');
    assert.equal(rs[0]!.index, net.core('a').status().commit);
    assert.ok(net.delivered.some((m) => m.type === MessageType.Heartbeat && str(m.context) === 'r1'));
  });

  it('ReadIndex refused before current-term commit: queued until the leader commits in its term', () => {
    const net = new Net(['a', 'b', 'c'], { preVote: false, checkQuorum: false });
    net.campaign('a');
    net.core('a').propose(bytes('w'));
    net.stabilize();
    // b wins a new term, but its empty entry cannot commit while acknowledgements are lost.
    net.filters.push((m) => m.type !== MessageType.AppendResp);
    net.campaign('b');
    assert.equal(net.core('b').status().role, Role.Leader);
    const term = net.core('b').status().term;
    assert.notEqual(net.core('b').termAt(net.core('b').status().commit), term);
    net.core('b').readIndex(bytes('early'));
    net.stabilize();
    net.tick('b', 2);
    assert.equal(net.node('b').readStates.length, 0, 'no read point before a current-term commit');
    net.heal();
    net.tick('b', 2);
    assert.equal(net.core('b').termAt(net.core('b').status().commit), term);
    assert.equal(net.node('b').readStates.length, 1);
    assert.equal(str(net.node('b').readStates[0]!.context), 'early');
    assert.equal(net.node('b').readStates[0]!.index, net.core('b').status().commit);
  });

  it('a partitioned leader cannot confirm a read', () => {
    const net = new Net(['a', 'b', 'c'], { checkQuorum: false });
    net.campaign('a');
    net.stabilize();
    net.partition(['a'], ['b', 'c']);
    net.core('a').readIndex(bytes('stale?'));
    net.tick('a', 5);
    assert.equal(net.node('a').readStates.length, 0);
  });

  it('a follower forwards the read to the leader and gets the leader commit index', () => {
    const net = new Net(['a', 'b', 'c']);
    net.campaign('a');
    net.core('a').propose(bytes('w'));
    net.stabilize();
    net.core('b').readIndex(bytes('from-b'));
    net.stabilize();
    const rs = net.node('b').readStates;
    assert.equal(rs.length, 1);
    assert.equal(rs[0]!.index, net.core('a').status().commit);
    assert.equal(net.node('a').readStates.length, 0);
  });

  it('one heartbeat round confirms every read queued before it', () => {
    const net = new Net(['a', 'b', 'c']);
    net.campaign('a');
    for (let i = 0; i < 5; i++) net.core('a').readIndex(bytes(`r${i}`));
    net.delivered = [];
    net.stabilize();
    assert.equal(net.node('a').readStates.length, 5);
    assert.equal(net.delivered.filter((m) => m.type === MessageType.Heartbeat).length, 2);
  });

  it('a single-voter leader answers reads at once after its first commit', () => {
    const net = new Net(['solo']);
    net.campaign('solo');
    net.core('solo').readIndex(bytes('r'));
    net.stabilize();
    assert.equal(net.node('solo').readStates.length, 1);
  });

  it('throws NOT_LEADER when no leader is known', () => {
    const net = new Net(['a', 'b', 'c']);
    assert.throws(() => net.core('a').readIndex(bytes('x')), { code: 'APFSDS_ERR_NOT_LEADER' });
  });
});

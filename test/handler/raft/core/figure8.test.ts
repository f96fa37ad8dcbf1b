/**
 * Raft paper figure 8, built step by step on five servers. Bootstrap conf entries occupy
 * indices 1..5 and the first leader's empty entry index 6, so the paper's "index 2" is index 7.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Net, bytes, str } from './harness.ts';
import { MessageType, Role } from '../../../../handler/raft/types.ts';

const IDX = 7;

/** Steps (a) to (c): S1 of term 4 has replicated the term-2 entry to a majority, nothing newer. */
function figure8Prefix(): Net {
  const net = new Net(['s1', 's2', 's3', 's4', 's5'], { preVote: false, checkQuorum: false });
  // (a) S1 leads term 2 and replicates X (term 2) to S2 only.
  net.campaign('s1');
  assert.equal(net.core('s1').status().term, 2);
  assert.equal(net.core('s1').status().commit, 6);
  net.partition(['s1', 's2'], ['s3', 's4', 's5']);
  net.core('s1').propose(bytes('X'));
  net.stabilize();
  assert.equal(net.core('s2').termAt(IDX), 2);
  assert.equal(net.core('s1').status().commit, 6);

  // (b) S1 crashes; S5 wins term 3 with S3 and S4 and appends its own entry at index 7,
  // then crashes before replicating it.
  net.heal();
  net.crash('s1');
  net.filters.push((m) => !(m.from === 's5' && m.type === MessageType.Append));
  net.campaign('s5');
  assert.equal(net.core('s5').status().role, Role.Leader);
  assert.equal(net.core('s5').status().term, 3);
  assert.equal(net.core('s5').termAt(IDX), 3);
  net.crash('s5');
  net.heal();

  // (c) S1 restarts and wins term 4, then replicates the term-2 entry to S3 (not its own
  // term-4 entry), so index 7 is stored on S1, S2 and S3: a majority.
  net.filters.push((m) => {
    if (m.type === MessageType.Append) m.entries = m.entries.filter((e) => e.index < IDX + 1);
    return true;
  });
  net.restart('s1');
  net.campaign('s1');
  if (net.core('s1').status().role !== Role.Leader) net.campaign('s1');
  assert.equal(net.core('s1').status().role, Role.Leader);
  assert.equal(net.core('s1').status().term, 4);
  assert.equal(net.core('s1').termAt(IDX + 1), 4);
  assert.equal(net.core('s3').termAt(IDX + 1), undefined);
  return net;
}

describe('Figure 8 scenario of the Raft paper', () => {
  it('an old-term entry on a majority is not committed by counting replicas', () => {
    const net = figure8Prefix();
    for (const s of ['s1', 's2', 's3']) assert.equal(net.core(s).termAt(IDX), 2, `${s} holds the term-2 entry`);
    const progress = net.core('s1').status().progress!;
    assert.equal(progress.get('s2')!.match, IDX);
    assert.equal(progress.get('s3')!.match, IDX);
    assert.equal(net.core('s1').status().commit, 6, 'term-2 entry not committed by S1 of term 4');
    assert.ok(!net.appliedData('s1').includes('X'));
  });

  it('the uncommitted old-term entry can then be overwritten by a later leader', () => {
    const net = figure8Prefix();
    // (d) S1 crashes; S5 returns, wins with S2, S3, S4 (its last term 3 beats their 2) and
    // overwrites index 7 everywhere.
    net.crash('s1');
    net.heal();
    net.restart('s5');
    for (let i = 0; i < 3 && net.core('s5').status().role !== Role.Leader; i++) net.campaign('s5');
    assert.equal(net.core('s5').status().role, Role.Leader);
    for (const s of ['s2', 's3', 's4']) assert.equal(net.core(s).termAt(IDX), 3, `${s} now has S5's entry`);
    assert.ok(net.core('s5').status().commit >= IDX + 1);
    for (const s of ['s2', 's3', 's4', 's5']) {
      assert.ok(!net.appliedData(s).includes('X'), `${s} never applied the overwritten entry`);
    }
  });

  it('the old-term entry becomes committed only through a current-term entry', () => {
    const net = figure8Prefix();
    // (e) S1 replicates its term-4 entry to a majority: that commits index 8 and, with it, 7.
    net.heal();
    net.filters.push((m) => m.to !== 's4' && m.from !== 's4');
    net.core('s1').propose(bytes('Y'));
    net.stabilize();
    net.tick('s1', 2);
    assert.ok(net.core('s1').status().commit >= IDX + 1);
    assert.deepEqual(net.appliedData('s1'), ['X', 'Y']);
    // Now S5 cannot win: S2 and S3 have a term-4 entry after index 7.
    net.crash('s1');
    net.heal();
    net.restart('s5');
    for (let i = 0; i < 4; i++) net.campaign('s5');
    assert.notEqual(net.core('s5').status().role, Role.Leader);
    net.campaign('s2');
    assert.equal(net.core('s2').status().role, Role.Leader);
    net.core('s2').propose(bytes('Z'));
    net.stabilize();
    for (const s of ['s2', 's3', 's4', 's5']) assert.deepEqual(net.appliedData(s).slice(-3), ['X', 'Y', 'Z'], s);
    assert.equal(str(net.core('s5').entryAt(IDX)!.data), 'X');
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyConfChange,
  decodeConfChange,
  encodeConfChange,
  majorityIndex,
  voteResult,
  VoteResult,
} from '../../../../handler/raft/core/conf.ts';
import { ConfChangeType } from '../../../../handler/raft/types.ts';

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const unhex = (s: string) => Uint8Array.from(s.match(/../g)!.map((x) => parseInt(x, 16)));

describe('conf changes', () => {
  it('encodes to fixed bytes and decodes back', () => {
    assert.equal(hex(encodeConfChange({ type: ConfChangeType.AddNode, node: 'h1' })), '01006831');
    assert.equal(hex(encodeConfChange({ type: ConfChangeType.RemoveNode, node: 'n' })), '01026e');
    assert.deepEqual(decodeConfChange(unhex('01016c31')), { type: ConfChangeType.AddLearner, node: 'l1' });
  });

  it('decodeConfChange() throws BAD_FRAME on bad version, type, length or UTF-8', () => {
    for (const bad of ['0200aa', '0109aa', '0100', '0100ff']) {
      assert.throws(() => decodeConfChange(unhex(bad)), { code: 'APFSDS_ERR_BAD_FRAME' }, bad);
    }
    assert.throws(() => encodeConfChange({ type: ConfChangeType.AddNode, node: '' }), { code: 'APFSDS_ERR_BAD_FRAME' });
  });

  it('applyConfChange() adds, promotes, demotes and removes; repeats are no-ops', () => {
    let cs = { voters: ['a'], learners: [] as string[], votersOutgoing: [] as string[] };
    cs = applyConfChange(cs, { type: ConfChangeType.AddLearner, node: 'b' });
    assert.deepEqual([cs.voters, cs.learners], [['a'], ['b']]);
    cs = applyConfChange(cs, { type: ConfChangeType.AddNode, node: 'b' });
    assert.deepEqual([cs.voters, cs.learners], [['a', 'b'], []]);
    cs = applyConfChange(cs, { type: ConfChangeType.AddNode, node: 'b' });
    assert.deepEqual([cs.voters, cs.learners], [['a', 'b'], []]);
    cs = applyConfChange(cs, { type: ConfChangeType.AddLearner, node: 'a' });
    assert.deepEqual([cs.voters, cs.learners], [['b'], ['a']]);
    cs = applyConfChange(cs, { type: ConfChangeType.RemoveNode, node: 'a' });
    assert.deepEqual([cs.voters, cs.learners], [['b'], []]);
  });

  it('majorityIndex() is the highest index on a majority of voters', () => {
    const m = new Map([['a', 5], ['b', 3], ['c', 9], ['d', 1], ['e', 4]]);
    assert.equal(majorityIndex(['a', 'b', 'c', 'd', 'e'], (id) => m.get(id)!), 4);
    assert.equal(majorityIndex(['a', 'b', 'c', 'd'], (id) => m.get(id)!), 3);
    assert.equal(majorityIndex(['c'], (id) => m.get(id)!), 9);
  });

  it('voteResult() counts only voters', () => {
    const votes = new Map([['a', true], ['l', true]]);
    assert.equal(voteResult(['a', 'b', 'c'], votes), VoteResult.Pending);
    votes.set('b', false);
    votes.set('c', false);
    assert.equal(voteResult(['a', 'b', 'c'], votes), VoteResult.Lost);
    assert.equal(voteResult(['a', 'b', 'c'], new Map([['a', true], ['c', true]])), VoteResult.Won);
  });
});

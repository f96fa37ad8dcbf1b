import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RaftLog, ENTRY_OVERHEAD } from '../../../../handler/raft/core/log.ts';
import type { Entry } from '../../../../handler/raft/types.ts';

const ents = (from: number, terms: number[]): Entry[] =>
  terms.map((term, i) => ({ term, index: from + i, type: 0, data: new Uint8Array(8) }));

describe('RaftLog', () => {
  it('maybeAppend() truncates a conflicting suffix and lowers the stable mark', () => {
    const log = new RaftLog(0, 0, ents(1, [1, 1, 2, 2]), 1, 0);
    assert.equal(log.stabled, 4);
    assert.equal(log.maybeAppend(2, 1, 3, ents(3, [3, 3, 3])), 5);
    assert.deepEqual([1, 2, 3, 4, 5].map((i) => log.term(i)), [1, 1, 3, 3, 3]);
    assert.equal(log.stabled, 2);
    assert.equal(log.truncatedFrom, 3);
    assert.equal(log.committed, 3);
    assert.deepEqual(log.unstable().map((e) => e.index), [3, 4, 5]);
  });

  it('maybeAppend() keeps matching entries when a shorter, older append arrives', () => {
    const log = new RaftLog(0, 0, ents(1, [1, 1, 1]), 0, 0);
    assert.equal(log.maybeAppend(0, 0, 0, ents(1, [1])), 1);
    assert.equal(log.lastIndex(), 3);
    assert.equal(log.maybeAppend(3, 2, 0, []), -1);
  });

  it('maybeAppend() refuses to truncate committed entries', () => {
    const log = new RaftLog(0, 0, ents(1, [1, 1]), 2, 0);
    assert.throws(() => log.maybeAppend(1, 1, 2, ents(2, [2])), { code: 'APFSDS_ERR_PROTOCOL' });
  });

  it('stableTo() never marks entries truncated after the Ready was handed out', () => {
    const log = new RaftLog(0, 0, [], 0, 0);
    log.append(ents(1, [1, 1, 1, 1]));
    const handed = log.unstable();
    log.truncatedFrom = Infinity;
    log.maybeAppend(2, 1, 0, ents(3, [2, 2]));
    log.stableTo(handed.at(-1)!.index);
    assert.equal(log.stabled, 2);
    assert.deepEqual(log.unstable().map((e) => [e.index, e.term]), [[3, 2], [4, 2]]);
  });

  it('findConflictByTerm() skips a divergent term in one step', () => {
    const log = new RaftLog(0, 0, ents(1, [1, 3, 3, 3, 5, 5, 5, 5, 5]), 0, 0);
    assert.deepEqual(log.findConflictByTerm(9, 2), [1, 1]);
    assert.deepEqual(log.findConflictByTerm(9, 4), [4, 3]);
    assert.deepEqual(log.findConflictByTerm(20, 9), [9, 5]);
  });

  it('slice() respects the byte budget but always returns one entry', () => {
    const log = new RaftLog(0, 0, ents(1, [1, 1, 1, 1]), 0, 0);
    const per = 8 + ENTRY_OVERHEAD;
    assert.equal(log.slice(1, 4, 1).length, 1);
    assert.equal(log.slice(1, 4, per * 2).length, 2);
    assert.equal(log.slice(1, 4, per * 10).length, 4);
    assert.deepEqual(log.slice(3, 2, 100), []);
  });

  it('compact() drops applied entries and keeps the boundary term', () => {
    const log = new RaftLog(0, 0, ents(1, [1, 2, 3, 4]), 4, 3);
    log.compact(3);
    assert.equal(log.firstIndex(), 4);
    assert.equal(log.term(3), 3);
    assert.equal(log.term(2), undefined);
    assert.equal(log.entry(4)!.term, 4);
    assert.throws(() => log.compact(4), { code: 'APFSDS_ERR_PROTOCOL' });
  });

  it('restore() replaces the log with a snapshot boundary', () => {
    const log = new RaftLog(0, 0, ents(1, [1, 1]), 1, 1);
    log.restore(10, 4);
    assert.equal(log.lastIndex(), 10);
    assert.equal(log.lastTerm(), 4);
    assert.equal(log.committed, 10);
    assert.equal(log.applied, 10);
    assert.deepEqual(log.unstable(), []);
  });

  it('nextCommitted() hands out each committed entry once, in budgeted batches', () => {
    const log = new RaftLog(0, 0, ents(1, [1, 1, 1, 1]), 4, 0);
    const per = 8 + ENTRY_OVERHEAD;
    assert.deepEqual(log.nextCommitted(per * 3).map((e) => e.index), [1, 2, 3]);
    assert.deepEqual(log.nextCommitted(per * 3).map((e) => e.index), [4]);
    assert.deepEqual(log.nextCommitted(per), []);
  });

  it('rejects stored state that is not contiguous or commits past the end', () => {
    assert.throws(() => new RaftLog(0, 0, [ents(1, [1])[0]!, ents(3, [1])[0]!], 0, 0), { code: 'APFSDS_ERR_STORAGE_CORRUPT' });
    assert.throws(() => new RaftLog(0, 0, ents(1, [1]), 2, 0), { code: 'APFSDS_ERR_STORAGE_CORRUPT' });
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Invariants, InvariantViolation, type LogView } from './invariants.ts';
import type { Entry } from '../../../../handler/raft/types.ts';

const e = (index: number, term: number, data = `${index}`): Entry => ({ index, term, type: 0, data: new TextEncoder().encode(data) });

/** A log view over a plain array of entries starting at index 1. */
const view = (entries: Entry[]): LogView => ({
  entryAt: (i) => entries[i - 1],
  termAt: (i) => (i === 0 ? 0 : entries[i - 1]?.term),
});

const violates = (name: string) => (err: unknown) => err instanceof InvariantViolation && err.invariant === name;

describe('simulation invariants', () => {
  it('flags two leaders in one term', () => {
    const inv = new Invariants();
    inv.leaderElected('a', 3, view([]), 1);
    inv.leaderElected('a', 3, view([]), 1);
    assert.throws(() => inv.leaderElected('b', 3, view([]), 1), violates('election safety'));
  });

  it('flags log matching violations: same index and term, different content or predecessor', () => {
    const inv = new Invariants();
    inv.entriesPersisted('a', [e(1, 1), e(2, 2)], 0);
    inv.entriesPersisted('b', [e(2, 2)], 1);
    assert.throws(() => inv.entriesPersisted('c', [e(2, 2, 'other')], 1), violates('log matching'));
    assert.throws(() => inv.entriesPersisted('c', [e(2, 2)], 2), violates('log matching'));
  });

  it('flags a leader missing a committed entry', () => {
    const inv = new Invariants();
    inv.commitAdvanced('a', 2, view([e(1, 1), e(2, 1)]));
    inv.leaderElected('b', 2, view([e(1, 1), e(2, 1)]), 1);
    assert.throws(() => inv.leaderElected('c', 3, view([e(1, 1), e(2, 2)]), 1), violates('leader completeness'));
  });

  it('flags a commit index that goes backwards, live or across a restart', () => {
    const inv = new Invariants();
    const log = view([e(1, 1), e(2, 1), e(3, 1)]);
    inv.commitAdvanced('a', 3, log);
    assert.throws(() => inv.commitAdvanced('a', 2, log), violates('commit monotonicity'));
    assert.throws(() => inv.restarted('a', 1, 2, 1, log), violates('commit monotonicity'));
  });

  it('flags different entries applied at one index and different snapshots at one index', () => {
    const inv = new Invariants();
    inv.entryApplied('a', e(5, 2));
    assert.throws(() => inv.entryApplied('b', e(5, 2, 'x')), violates('state machine safety'));
    const conf = { voters: ['a'], learners: [], votersOutgoing: [] };
    inv.snapshotSeen('a', { meta: { index: 9, term: 2, conf }, data: new Uint8Array([1]) });
    assert.throws(() => inv.snapshotSeen('b', { meta: { index: 9, term: 2, conf }, data: new Uint8Array([2]) }), violates('state machine safety'));
  });

  it('flags an acknowledged write that is not committed or later lost', () => {
    const inv = new Invariants();
    assert.throws(() => inv.writeAcked('a', e(1, 1)), violates('acknowledged write durability'));
    inv.commitAdvanced('a', 1, view([e(1, 1)]));
    inv.writeAcked('a', e(1, 1));
    inv.checkAckedIn('b', view([e(1, 1)]), 1, 1, true);
    inv.checkAckedIn('c', view([]), 1, 0, false);
    assert.throws(() => inv.checkAckedIn('d', view([]), 1, 0, true), violates('acknowledged write durability'));
    assert.throws(() => inv.checkAckedIn('e', view([e(1, 2)]), 1, 1, false), violates('acknowledged write durability'));
  });
});

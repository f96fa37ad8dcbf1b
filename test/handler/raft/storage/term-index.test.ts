import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TermIndex } from '../../../../handler/raft/storage/term-index.ts';

function fill(t: TermIndex, from: number, to: number, term: number): void {
  for (let i = from; i <= to; i++) t.append(i, term);
}

test('termAt answers from runs, the base, and undefined outside the log', () => {
  const t = new TermIndex();
  fill(t, 1, 4, 1);
  fill(t, 5, 9, 2);
  fill(t, 10, 12, 5);
  assert.deepEqual([0, 1, 4, 5, 9, 10, 12, 13].map((i) => t.termAt(i)), [0, 1, 1, 2, 2, 5, 5, undefined]);
  assert.equal(t.lastIndex, 12);
  assert.equal(t.lastTerm, 5);
});

test('appending at or below lastIndex drops the suffix from that index', () => {
  const t = new TermIndex();
  fill(t, 1, 10, 1);
  fill(t, 11, 20, 2);
  t.append(8, 3);
  assert.equal(t.lastIndex, 8);
  assert.deepEqual([7, 8, 9, 11].map((i) => t.termAt(i)), [1, 3, undefined, undefined]);
});

test('compactTo keeps the suffix and remembers the base term', () => {
  const t = new TermIndex();
  fill(t, 1, 4, 1);
  fill(t, 5, 9, 2);
  t.compactTo(6);
  assert.equal(t.baseIndex, 6);
  assert.deepEqual([5, 6, 7, 9].map((i) => t.termAt(i)), [undefined, 2, 2, 2]);
  t.compactTo(9);
  assert.equal(t.lastIndex, 9);
  assert.equal(t.lastTerm, 2);
  t.append(10, 4);
  assert.equal(t.termAt(10), 4);
  assert.throws(() => t.compactTo(20), RangeError);
});

test('reset replaces the log with an empty one after the snapshot', () => {
  const t = new TermIndex();
  fill(t, 1, 5, 1);
  t.reset(100, 9);
  assert.equal(t.lastIndex, 100);
  assert.equal(t.termAt(5), undefined);
  assert.equal(t.termAt(100), 9);
});

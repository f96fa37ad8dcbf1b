import { test } from 'node:test';
import assert from 'node:assert/strict';
import { swrrPick, type SwrrState } from '../../../handler/routing/swrr.ts';

test('weights 5/1/1 give the smooth nginx sequence a a b a c a a', () => {
  const state: SwrrState = new Map();
  const c = [{ id: 'a', weight: 5 }, { id: 'b', weight: 1 }, { id: 'c', weight: 1 }];
  const seq = Array.from({ length: 14 }, () => swrrPick(state, c)?.id).join(' ');
  assert.equal(seq, 'a a b a c a a a a b a c a a');
});

test('every window of sum(weights) picks holds each candidate exactly weight times', () => {
  const state: SwrrState = new Map();
  const c = [{ id: 'x', weight: 3 }, { id: 'y', weight: 2 }, { id: 'z', weight: 4 }];
  for (let w = 0; w < 20; w++) {
    const counts: Record<string, number> = { x: 0, y: 0, z: 0 };
    for (let i = 0; i < 9; i++) counts[swrrPick(state, c)!.id]!++;
    assert.deepEqual(counts, { x: 3, y: 2, z: 4 });
  }
});

test('zero-weight candidates are never picked and an empty list picks nothing', () => {
  const state: SwrrState = new Map();
  assert.equal(swrrPick(state, []), null);
  assert.equal(swrrPick(state, [{ id: 'a', weight: 0 }]), null);
  for (let i = 0; i < 10; i++) assert.equal(swrrPick(state, [{ id: 'a', weight: 0 }, { id: 'b', weight: 1 }])?.id, 'b');
});

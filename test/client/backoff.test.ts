import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, checkBackoff } from '../../client/backoff.ts';
import { ErrorCode } from '../../shared/errors.ts';

const o = { minMs: 500, maxMs: 30_000, jitter: 0.5 };

test('backoffDelay() doubles the base per attempt and stops at the cap', () => {
  const none = { ...o, jitter: 0 };
  assert.deepEqual([0, 1, 2, 3, 6, 7, 100].map((a) => backoffDelay(a, none)), [500, 1000, 2000, 4000, 30_000, 30_000, 30_000]);
});

test('backoffDelay() with full jitter spans 0..base and with equal jitter base/2..base', () => {
  const full = { ...o, jitter: 1 };
  assert.equal(backoffDelay(2, full, () => 0), 0);
  assert.equal(backoffDelay(2, full, () => 0.999999), 2000);
  assert.equal(backoffDelay(2, o, () => 0), 1000);
  assert.equal(backoffDelay(2, o, () => 0.5), 1500);
});

test('backoffDelay() stays finite for huge attempt counts and clamps a bad random source', () => {
  assert.equal(backoffDelay(1e9, { ...o, jitter: 0 }), 30_000);
  assert.equal(backoffDelay(0, { ...o, jitter: 1 }, () => 7), 500);
});

test('checkBackoff() refuses max below min and jitter outside 0..1 with BAD_CONFIG', () => {
  assert.throws(() => checkBackoff({ minMs: 10, maxMs: 5, jitter: 0 }), { code: ErrorCode.BAD_CONFIG });
  assert.throws(() => checkBackoff({ minMs: 10, maxMs: 50, jitter: 1.5 }), { code: ErrorCode.BAD_CONFIG });
  assert.throws(() => checkBackoff({ minMs: -1, maxMs: 50, jitter: 0 }), { code: ErrorCode.BAD_CONFIG });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, hasCode } from '../../../shared/errors.ts';
import { Backoff } from '../../../exit/link/backoff.ts';

describe('Backoff', () => {
  it('doubles from minMs up to maxMs without jitter', () => {
    const b = new Backoff({ minMs: 100, maxMs: 1000, jitter: 0 });
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => b.next()), [100, 200, 400, 800, 1000, 1000]);
    assert.equal(b.failures, 6);
  });

  it('cuts each delay by at most the jitter fraction', () => {
    const lowest = new Backoff({ minMs: 100, maxMs: 1000, jitter: 0.5, random: () => 0.999999 });
    const highest = new Backoff({ minMs: 100, maxMs: 1000, jitter: 0.5, random: () => 0 });
    assert.deepEqual([1, 2, 3].map(() => lowest.next()), [50, 100, 200]);
    assert.deepEqual([1, 2, 3].map(() => highest.next()), [100, 200, 400]);
  });

  it('starts over after reset()', () => {
    const b = new Backoff({ minMs: 10, maxMs: 100, jitter: 0 });
    b.next();
    b.next();
    b.reset();
    assert.equal(b.next(), 10);
  });

  it('refuses nonsense settings with BAD_CONFIG', () => {
    for (const o of [{ minMs: 0 }, { minMs: 10, maxMs: 5 }, { jitter: 1.5 }]) {
      assert.throws(() => new Backoff(o), (err: unknown) => hasCode(err, ErrorCode.BAD_CONFIG));
    }
  });
});

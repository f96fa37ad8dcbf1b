import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../../../shared/errors.ts';
import { ReplayGuard } from '../../../shared/crypto/replay-guard.ts';
import { seededBytes } from './helpers.ts';

const T0 = 1_700_000_000_000;

function clock(start = T0) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('ReplayGuard', () => {
  const ids = seededBytes(5);

  it('accepts a fresh handshake and refuses the same id again', () => {
    const c = clock();
    const guard = new ReplayGuard({ now: c.now });
    const id = ids(32);
    assert.equal(guard.check(T0, id), 'accepted');
    assert.equal(guard.check(T0, id), 'replayed');
    assert.equal(guard.check(T0, ids(32)), 'accepted');
  });

  it('refuses timestamps more than 30 s away either way and accepts the edges', () => {
    const guard = new ReplayGuard({ now: clock().now });
    assert.equal(guard.check(T0 - 30_000, ids(32)), 'accepted');
    assert.equal(guard.check(T0 + 30_000, ids(32)), 'accepted');
    assert.equal(guard.check(T0 - 30_001, ids(32)), 'stale');
    assert.equal(guard.check(T0 + 30_001, ids(32)), 'future');
    assert.equal(guard.check(Number.NaN, ids(32)), 'stale');
  });

  it('still refuses a replay for as long as its timestamp stays inside the window', () => {
    const c = clock();
    const guard = new ReplayGuard({ now: c.now });
    const id = ids(32);
    const stamp = T0 + 30_000; // the latest a client clock may be ahead
    assert.equal(guard.check(stamp, id), 'accepted');
    for (let step = 0; step < 12; step++) {
      c.advance(5_000);
      const verdict = guard.check(stamp, id);
      assert.ok(verdict === 'replayed' || verdict === 'stale', `at +${(step + 1) * 5} s: ${verdict}`);
    }
  });

  it('forgets ids after two generations, keeping memory bounded over time', () => {
    const c = clock();
    const guard = new ReplayGuard({ now: c.now });
    for (let i = 0; i < 100; i++) guard.check(c.now(), ids(32));
    assert.equal(guard.size, 100);
    c.advance(60_000);
    guard.check(c.now(), ids(32));
    assert.equal(guard.size, 101, 'the previous generation is still remembered');
    c.advance(60_000);
    guard.check(c.now(), ids(32));
    assert.equal(guard.size, 2);
    c.advance(10 * 60_000);
    guard.check(c.now(), ids(32));
    assert.equal(guard.size, 1);
  });

  it('fails closed when a generation is full, and recovers at rotation', () => {
    const c = clock();
    const guard = new ReplayGuard({ now: c.now, maxEntriesPerGeneration: 3 });
    for (let i = 0; i < 3; i++) assert.equal(guard.check(c.now(), ids(32)), 'accepted');
    const late = ids(32);
    assert.equal(guard.check(c.now(), late), 'full');
    c.advance(59_999);
    assert.equal(guard.check(c.now(), late), 'full');
    c.advance(1);
    assert.equal(guard.check(c.now(), late), 'accepted');
    assert.ok(guard.size <= 6);
  });

  it('never retires ids early when the clock steps backwards', () => {
    const c = clock();
    const guard = new ReplayGuard({ now: c.now });
    const id = ids(32);
    guard.check(T0, id);
    c.advance(-3_600_000);
    c.advance(3_600_000 + 20_000);
    assert.equal(guard.check(T0, id), 'replayed');
  });

  it('refuses a configuration that could forget a replayable id', () => {
    assert.throws(() => new ReplayGuard({ windowMs: 30_000, retentionMs: 59_999 }), { code: ErrorCode.BAD_CONFIG });
    assert.throws(() => new ReplayGuard({ maxEntriesPerGeneration: 0 }), { code: ErrorCode.BAD_CONFIG });
    assert.throws(() => new ReplayGuard({ windowMs: -1 }), { code: ErrorCode.BAD_CONFIG });
  });

  it('refuses ids shorter than 16 bytes', () => {
    const guard = new ReplayGuard({ now: clock().now });
    assert.throws(() => guard.check(T0, new Uint8Array(15)), { code: ErrorCode.REPLAY });
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createExitHealth, resolveHealthOptions } from '../../../handler/routing/health.ts';
import { ErrorCode } from '../../../shared/errors.ts';

const opts = resolveHealthOptions({ failureThreshold: 3, baseEjectionMs: 1000, maxEjectionMs: 8000, jitter: 0, probeTimeoutMs: 500 });

test('consecutive failures at the threshold eject; a success in between resets the count', () => {
  const h = createExitHealth(opts, () => 0);
  h.failure(0);
  h.failure(0);
  h.success(0);
  h.failure(0);
  h.failure(0);
  assert.equal(h.status(0), 'up');
  h.failure(0);
  assert.equal(h.status(0), 'ejected');
  assert.equal(h.snapshot(0).ejectedUntil, 1000);
});

test('ejection grows exponentially to the cap and probe success restores the exit', () => {
  const h = createExitHealth(opts, () => 0);
  let t = 0;
  for (let i = 0; i < 3; i++) h.failure(t);
  const durations: number[] = [];
  for (let round = 0; round < 6; round++) {
    const until = h.snapshot(t).ejectedUntil!;
    durations.push(until - t);
    t = until - 1;
    assert.equal(h.availability(t), 'no');
    t = until;
    assert.equal(h.status(t), 'half_open');
    assert.equal(h.availability(t), 'probe');
    h.beginProbe(t);
    assert.equal(h.status(t), 'probing');
    assert.equal(h.availability(t), 'no', 'only one probe at a time');
    h.failure(t);
  }
  assert.deepEqual(durations, [1000, 2000, 4000, 8000, 8000, 8000]);
  t = h.snapshot(t).ejectedUntil!;
  h.beginProbe(t);
  h.success(t);
  assert.equal(h.status(t), 'up');
  assert.equal(h.snapshot(t).ejections, 7);
});

test('jitter shortens the ejection by a fraction drawn from the injected PRNG', () => {
  const h = createExitHealth(resolveHealthOptions({ failureThreshold: 1, baseEjectionMs: 1000, maxEjectionMs: 1000, jitter: 0.2 }), () => 0.5);
  h.failure(100);
  assert.equal(h.snapshot(100).ejectedUntil, 100 + 900);
});

test('a probe that never reports back is given up after probeTimeoutMs', () => {
  const h = createExitHealth(opts, () => 0);
  for (let i = 0; i < 3; i++) h.failure(0);
  h.beginProbe(1000);
  assert.equal(h.availability(1499), 'no');
  assert.equal(h.availability(1500), 'probe');
});

test('a late success while ejected does not end the ejection early', () => {
  const h = createExitHealth(opts, () => 0);
  for (let i = 0; i < 3; i++) h.failure(0);
  h.success(10);
  assert.equal(h.status(10), 'ejected');
});

test('a recovery that lasts a full cap period resets the backoff level', () => {
  const h = createExitHealth(opts, () => 0);
  for (let i = 0; i < 3; i++) h.failure(0);
  h.failure(1000); // half-open probe fails: level 2, 2000 ms
  h.success(3000);
  for (let i = 0; i < 3; i++) h.failure(3500);
  assert.equal(h.snapshot(3500).ejectedUntil, 3500 + 4000, 'short recovery keeps the level');
  h.success(7500);
  const later = 7500 + 8000;
  for (let i = 0; i < 3; i++) h.failure(later);
  assert.equal(h.snapshot(later).ejectedUntil, later + 1000, 'long recovery resets it');
});

test('missed heartbeats mark the exit down until the next heartbeat; RTT is averaged', () => {
  const h = createExitHealth(resolveHealthOptions({ maxMissedHeartbeats: 2, rttAlpha: 0.5 }), () => 0);
  h.heartbeat(100);
  h.heartbeat(200);
  assert.equal(h.snapshot(0).rttMs, 150);
  h.heartbeatMissed();
  assert.equal(h.status(0), 'up');
  h.heartbeatMissed();
  assert.equal(h.status(0), 'down');
  h.heartbeat(50);
  assert.equal(h.status(0), 'up');
  h.linkDown();
  assert.equal(h.status(0), 'down');
  h.linkUp();
  assert.equal(h.status(0), 'up');
});

test('startUp: false keeps an exit down until its link comes up', () => {
  const h = createExitHealth(resolveHealthOptions({ startUp: false }), () => 0);
  assert.equal(h.status(0), 'down');
  h.linkUp();
  assert.equal(h.status(0), 'up');
});

test('resolveHealthOptions() rejects nonsense with BAD_CONFIG', () => {
  for (const bad of [{ failureThreshold: 0 }, { maxMissedHeartbeats: 1.5 }, { baseEjectionMs: 10, maxEjectionMs: 5 }, { jitter: 1 }, { probeTimeoutMs: 0 }, { rttAlpha: 0 }]) {
    assert.throws(() => resolveHealthOptions(bad), (e: Error & { code?: string }) => e.code === ErrorCode.BAD_CONFIG, JSON.stringify(bad));
  }
});

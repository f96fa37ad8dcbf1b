import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createExitSelector, type ExitSelectorOptions } from '../../../handler/routing/selector.ts';
import type { ExitDescriptor, PickRequest, PickResult } from '../../../handler/routing/types.ts';
import { ErrorCode } from '../../../shared/errors.ts';

function setup(exits: ExitDescriptor[], extra: Partial<ExitSelectorOptions> = {}) {
  const clock = { t: 0 };
  const selector = createExitSelector({
    now: () => clock.t,
    random: () => 0,
    health: { failureThreshold: 3, baseEjectionMs: 1000, maxEjectionMs: 8000, jitter: 0 },
    ...extra,
  });
  selector.setExits(exits);
  return { clock, selector };
}

const id = (r: PickResult) => (r.ok ? r.exitId : `no_exit:${r.detail}`);

function counts(pick: () => PickResult, n: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const k = id(pick());
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

const THREE: ExitDescriptor[] = [
  { id: 'us', region: 'us', weight: 1 },
  { id: 'eu', region: 'eu', weight: 1 },
  { id: 'asia', region: 'asia', weight: 2 },
];

test('4000 picks over weights 1/1/2 split exactly 25/25/50', () => {
  const { selector } = setup(THREE);
  assert.deepEqual(counts(() => selector.pick(), 4000), { us: 1000, eu: 1000, asia: 2000 });
});

test('a weight change takes effect on the next pick', () => {
  const { selector } = setup(THREE);
  selector.pick();
  selector.setExits(THREE.map((e) => (e.id === 'asia' ? { ...e, weight: 0 } : e)));
  assert.deepEqual(counts(() => selector.pick(), 100), { us: 50, eu: 50 });
  selector.setExits(THREE.map((e) => (e.id === 'us' ? { ...e, weight: 3 } : e)));
  assert.deepEqual(counts(() => selector.pick(), 600), { us: 300, eu: 100, asia: 200 });
});

test('draining and disabled exits take no new streams', () => {
  const { selector } = setup(THREE);
  selector.setExits([{ ...THREE[0]!, state: 'draining' }, { ...THREE[1]!, state: 'disabled' }, THREE[2]!]);
  assert.deepEqual(counts(() => selector.pick(), 10), { asia: 10 });
  selector.setExits(THREE);
  assert.deepEqual(counts(() => selector.pick(), 40), { us: 10, eu: 10, asia: 20 });
});

test('an exit is ejected after repeated failures, probed back with one stream, then restored', () => {
  const { clock, selector } = setup(THREE);
  for (let i = 0; i < 3; i++) selector.openFailed('asia');
  assert.deepEqual(counts(() => selector.pick(), 10), { us: 5, eu: 5 });
  clock.t = 999;
  assert.equal(counts(() => selector.pick(), 4).asia, undefined);
  clock.t = 1000;
  const probe = selector.pick();
  assert.ok(probe.ok && probe.exitId === 'asia' && probe.probe);
  assert.equal(counts(() => selector.pick(), 10).asia, undefined, 'one probe at a time');
  selector.openFailed('asia');
  clock.t = 2999;
  assert.equal(counts(() => selector.pick(), 4).asia, undefined, 'failed probe doubles the ejection');
  clock.t = 3000;
  const again = selector.pick();
  assert.ok(again.ok && again.exitId === 'asia' && again.probe);
  selector.openSucceeded('asia');
  assert.deepEqual(counts(() => selector.pick(), 400), { us: 100, eu: 100, asia: 200 });
});

test('stalls count as failures and heartbeats drive active health', () => {
  const { selector } = setup(THREE);
  for (let i = 0; i < 3; i++) selector.streamStalled('us');
  for (let i = 0; i < 3; i++) selector.heartbeatMissed('eu');
  assert.deepEqual(counts(() => selector.pick(), 6), { asia: 6 });
  selector.heartbeat('eu', 40);
  assert.deepEqual(counts(() => selector.pick(), 6), { asia: 4, eu: 2 });
  selector.linkDown('asia');
  assert.deepEqual(counts(() => selector.pick(), 3), { eu: 3 });
  const snap = selector.snapshot();
  assert.equal(snap.find((e) => e.id === 'eu')?.health.rttMs, 40);
  assert.equal(snap.find((e) => e.id === 'us')?.health.status, 'ejected');
  assert.equal(snap.find((e) => e.id === 'asia')?.health.status, 'down');
});

test('all exits down gives a clear no_exit result', () => {
  const { selector } = setup(THREE);
  for (const e of THREE) selector.linkDown(e.id);
  const r = selector.pick();
  assert.ok(!r.ok && r.reason === 'no_exit' && r.detail === 'all_unavailable');
  const empty = setup([]).selector.pick();
  assert.ok(!empty.ok && empty.detail === 'none_configured');
  const zero = setup([{ id: 'a', region: 'x', weight: 0 }]).selector.pick();
  assert.ok(!zero.ok && zero.detail === 'none_configured');
});

const REGIONS: ExitDescriptor[] = [
  { id: 'us1', region: 'us', weight: 1 },
  { id: 'us2', region: 'us', weight: 1 },
  { id: 'eu1', region: 'eu', weight: 1 },
  { id: 'asia1', region: 'asia', weight: 2 },
];

test('picks stay inside the user\'s allowed regions and the requested region', () => {
  const { selector } = setup(REGIONS);
  assert.deepEqual(counts(() => selector.pick({ allowedRegions: ['us', 'eu'] }), 30), { us1: 10, us2: 10, eu1: 10 });
  assert.deepEqual(counts(() => selector.pick({ region: 'us' }), 10), { us1: 5, us2: 5 });
  assert.deepEqual(counts(() => selector.pick({ region: 'asia', allowedRegions: ['asia'] }), 3), { asia1: 3 });
  const none = selector.pick({ allowedRegions: [] });
  assert.ok(!none.ok && none.detail === 'none_configured');
  const forbidden = selector.pick({ region: 'asia', allowedRegions: ['us'] });
  assert.ok(!forbidden.ok && forbidden.detail === 'region_not_allowed');
});

test('a requested region with no usable exit falls back to allowed regions unless strict', () => {
  const { selector } = setup(REGIONS);
  selector.linkDown('us1');
  selector.linkDown('us2');
  const req: PickRequest = { region: 'us', allowedRegions: ['us', 'eu'] };
  const r = selector.pick(req);
  assert.ok(r.ok && r.exitId === 'eu1' && r.fallback);
  const strict = selector.pick({ ...req, strictRegion: true });
  assert.ok(!strict.ok && strict.detail === 'all_unavailable');
  const unknown = selector.pick({ region: 'mars' });
  assert.ok(unknown.ok && unknown.fallback);
  selector.linkUp('us1');
  const back = selector.pick(req);
  assert.ok(back.ok && back.exitId === 'us1' && !back.fallback);
});

test('retry() picks an exit not yet tried and stops at maxAttempts', () => {
  const { selector } = setup(REGIONS, { maxAttempts: 3 });
  const first = selector.pick();
  assert.ok(first.ok);
  const second = selector.retry({}, first.exitId);
  assert.ok(second.ok && second.exitId !== first.exitId);
  const third = selector.retry({}, second.exitId, [first.exitId]);
  assert.ok(third.ok && ![first.exitId, second.exitId].includes(third.exitId));
  const fourth = selector.retry({}, third.exitId, [first.exitId, second.exitId]);
  assert.ok(!fourth.ok && fourth.detail === 'retries_exhausted');
});

test('retry() reports all_excluded when every allowed exit was tried', () => {
  const { selector } = setup(REGIONS, { maxAttempts: 5 });
  const r = selector.retry({ region: 'us', strictRegion: true }, 'us1', ['us2']);
  assert.ok(!r.ok && r.detail === 'all_excluded');
});

test('health survives setExits for the same id and is dropped for removed ids', () => {
  const { selector } = setup(THREE);
  for (let i = 0; i < 3; i++) selector.openFailed('us');
  selector.setExits(THREE.map((e) => ({ ...e, weight: e.weight + 1 })));
  assert.equal(selector.snapshot().find((e) => e.id === 'us')?.health.status, 'ejected');
  selector.setExits(THREE.slice(1));
  selector.openFailed('us'); // unknown id: ignored
  selector.setExits(THREE);
  assert.equal(selector.snapshot().find((e) => e.id === 'us')?.health.status, 'up');
});

test('setExits() rejects bad descriptors with BAD_CONFIG naming the entry', () => {
  const { selector } = setup([]);
  const cases: unknown[] = [
    [{ id: '', region: 'us', weight: 1 }],
    [{ id: 'a', region: 'us', weight: 1 }, { id: 'a', region: 'eu', weight: 1 }],
    [{ id: 'a', region: '', weight: 1 }],
    [{ id: 'a', region: 'us', weight: -1 }],
    [{ id: 'a', region: 'us', weight: 1.5 }],
    [{ id: 'a', region: 'us', weight: 1, state: 'paused' }],
  ];
  for (const exits of cases) {
    assert.throws(
      () => selector.setExits(exits as ExitDescriptor[]),
      (e: Error & { code?: string }) => e.code === ErrorCode.BAD_CONFIG && /exits\[\d\]/.test(e.message),
      JSON.stringify(exits),
    );
  }
});

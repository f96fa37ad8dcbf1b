import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../../shared/errors.ts';
import { STATE_LIMITS } from '../../../handler/state/commands.ts';
import { createUser, harness, usage } from './fixtures.ts';

test('a usage batch adds up and down to the user and to used', () => {
  const { m, run } = harness();
  run(createUser('alice', 1));
  assert.deepEqual(run(usage('h1', 1, 'alice', 100, 250)), { ok: true, index: 2 });
  assert.deepEqual(m.users.usage('alice'), { userId: 'alice', up: 100, down: 250 });
  assert.equal(m.users.get('alice')!.used, 350);
});

test('a retried batch (same handler and sequence) is counted once', () => {
  const { m, run } = harness();
  run(createUser('alice', 1));
  run(usage('h1', 1, 'alice', 10, 10));
  assert.deepEqual(run(usage('h1', 1, 'alice', 10, 10)), { ok: true, index: 3, noop: 'duplicate' });
  assert.equal(m.users.get('alice')!.used, 20);
  run(usage('h1', 2, 'alice', 1, 0));
  assert.equal(run(usage('h1', 1, 'alice', 10, 10)).ok, true, 'an old sequence is a duplicate too');
  assert.equal(m.users.get('alice')!.used, 21);
  assert.equal(m.usageWatermark('h1'), 2);
});

test('sequences are tracked per handler', () => {
  const { m, run } = harness();
  run(createUser('alice', 1));
  run(usage('h1', 7, 'alice', 1, 0));
  run(usage('h2', 7, 'alice', 1, 0));
  run(usage('h2', 3, 'alice', 1, 0));
  assert.equal(m.users.get('alice')!.used, 2);
  assert.deepEqual(m.usageWatermarks(), [['h1', 7], ['h2', 7]]);
  assert.equal(m.usageWatermark('h3'), 0);
});

test('deltas for unknown users are dropped and the rest of the batch still counts', () => {
  const { m, run } = harness();
  run(createUser('alice', 1));
  const r = run({
    v: 1,
    op: 'usage.add',
    handlerId: 'h1',
    sequence: 1,
    deltas: [
      { userId: 'ghost', up: 5, down: 5 },
      { userId: 'alice', up: 1, down: 2 },
      { userId: 'alice', up: 3, down: 4 },
    ],
  });
  assert.equal(r.ok, true);
  assert.deepEqual(m.users.usage('alice'), { userId: 'alice', up: 4, down: 6 });
});

test('counters saturate at Number.MAX_SAFE_INTEGER instead of losing precision', () => {
  const { m, run } = harness();
  run(createUser('alice', 1));
  run(usage('h1', 1, 'alice', Number.MAX_SAFE_INTEGER, 0));
  run(usage('h1', 2, 'alice', 10, 10));
  assert.equal(m.users.get('alice')!.used, Number.MAX_SAFE_INTEGER);
  assert.equal(m.users.usage('alice')!.up, Number.MAX_SAFE_INTEGER);
  assert.equal(m.users.usage('alice')!.down, 10);
});

test('crossing the quota fires userDisabled with reason quota once', () => {
  const { run, events } = harness();
  run(createUser('alice', 1, { quota: 100 }));
  events.length = 0;
  run(usage('h1', 1, 'alice', 50, 0));
  run(usage('h1', 2, 'alice', 50, 0));
  run(usage('h1', 3, 'alice', 50, 0));
  assert.deepEqual(events, [{ type: 'userDisabled', id: 'alice', reason: 'quota' }]);
});

test('usage.reset zeroes the counters and re-admits a user over quota', () => {
  const { m, run, events } = harness();
  run(createUser('alice', 1, { quota: 10 }));
  run(usage('h1', 1, 'alice', 10, 10));
  assert.equal(m.users.admit(m.users.get('alice')!.publicKey).ok, false);
  events.length = 0;
  assert.equal(run({ v: 1, op: 'usage.reset', userId: 'alice' }).ok, true);
  assert.equal(m.users.get('alice')!.used, 0);
  assert.deepEqual(m.users.usage('alice'), { userId: 'alice', up: 0, down: 0 });
  assert.equal(m.users.admit(m.users.get('alice')!.publicKey).ok, true);
  assert.equal(events.length, 1);
  assert.equal(events[0]!.type, 'userChanged');
  const missing = run({ v: 1, op: 'usage.reset', userId: 'ghost' });
  assert.equal(!missing.ok && missing.error.code, ErrorCode.NOT_FOUND);
});

test('usage from more handler ids than remembered is refused with STATE_LIMIT', () => {
  const { m, run } = harness();
  run(createUser('alice', 1));
  for (let i = 0; i < STATE_LIMITS.maxUsageSources; i++) assert.equal(run(usage(`h${i}`, 1, 'alice', 1, 0)).ok, true);
  const r = run(usage('one-more', 1, 'alice', 1, 0));
  assert.equal(!r.ok && r.error.code, ErrorCode.STATE_LIMIT);
  assert.equal(m.users.get('alice')!.used, STATE_LIMITS.maxUsageSources);
  assert.equal(run(usage('h0', 2, 'alice', 1, 0)).ok, true, 'known handlers keep reporting');
});

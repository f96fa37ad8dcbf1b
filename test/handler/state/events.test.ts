import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createStateMachine } from '../../../handler/state/machine.ts';
import { encodeCommand } from '../../../handler/state/commands.ts';
import type { StateEvent } from '../../../handler/state/types.ts';
import { createExit, createUser, harness, key } from './fixtures.ts';

test('creating and changing a user fires userChanged with the new record', () => {
  const { m, run, events } = harness();
  run(createUser('alice', 1));
  const created = m.users.get('alice');
  run({ v: 1, op: 'user.update', id: 'alice', rateLimit: 1000 });
  const updated = m.users.get('alice');
  assert.equal(updated?.rateLimit, 1000);
  assert.deepEqual(events, [
    { type: 'userChanged', id: 'alice', user: created },
    { type: 'userChanged', id: 'alice', user: updated },
  ]);
});

test('disabling, deleting, rotating the key and revoking the key each fire userDisabled with a reason', () => {
  const { run, events } = harness();
  run(createUser('a', 1));
  run(createUser('b', 2));
  run(createUser('c', 3));
  run(createUser('d', 4));
  events.length = 0;
  run({ v: 1, op: 'user.update', id: 'a', status: 'disabled' });
  run({ v: 1, op: 'user.delete', id: 'b' });
  run({ v: 1, op: 'user.update', id: 'c', publicKey: key(33) });
  run({ v: 1, op: 'key.revoke', publicKey: key(4) });
  const blocked = events.filter((e) => e.type === 'userDisabled');
  assert.deepEqual(blocked, [
    { type: 'userDisabled', id: 'a', reason: 'disabled' },
    { type: 'userDisabled', id: 'b', reason: 'deleted' },
    { type: 'userDisabled', id: 'c', reason: 'key_changed' },
    { type: 'userDisabled', id: 'd', reason: 'key_revoked' },
  ]);
});

test('a user that could not connect before fires no userDisabled', () => {
  const { run, events } = harness();
  run(createUser('a', 1, { status: 'disabled' }));
  events.length = 0;
  run({ v: 1, op: 'user.delete', id: 'a' });
  assert.deepEqual(events, [{ type: 'userChanged', id: 'a', user: undefined }]);
});

test('lowering the quota below usage fires userDisabled with reason quota', () => {
  const { run, events } = harness();
  run(createUser('a', 1));
  run({ v: 1, op: 'usage.add', handlerId: 'h1', sequence: 1, deltas: [{ userId: 'a', up: 50, down: 0 }] });
  events.length = 0;
  run({ v: 1, op: 'user.update', id: 'a', quota: 40 });
  assert.deepEqual(events.at(-1), { type: 'userDisabled', id: 'a', reason: 'quota' });
});

test('exit changes fire exitChanged with the record, or undefined on delete', () => {
  const { m, run, events } = harness();
  run(createExit('e1', 11));
  run({ v: 1, op: 'exit.update', id: 'e1', weight: 9 });
  run({ v: 1, op: 'exit.delete', id: 'e1' });
  assert.equal(events.length, 3);
  assert.deepEqual(events[1], { type: 'exitChanged', id: 'e1', exit: { ...(events[0] as { exit: object }).exit, weight: 9 } });
  assert.deepEqual(events[2], { type: 'exitChanged', id: 'e1', exit: undefined });
  assert.equal(m.exits.size, 0);
});

test('settingsChanged fires only when a setting actually changes', () => {
  const { m, run, events } = harness();
  run({ v: 1, op: 'settings.update', usageReportInterval: 5000 });
  run({ v: 1, op: 'settings.update', usageReportInterval: 5000 });
  assert.deepEqual(events, [{ type: 'settingsChanged', settings: m.settings() }]);
});

test('refused commands fire no events', () => {
  const { run, events } = harness();
  run({ v: 1, op: 'user.delete', id: 'ghost' });
  run({ v: 1, op: 'exit.update', id: 'ghost', weight: 2 });
  assert.deepEqual(events, []);
});

test('a throwing listener is reported and the others still run; unsubscribe stops delivery', () => {
  const errors: unknown[] = [];
  const m = createStateMachine({ onListenerError: (err) => errors.push(err) });
  const seen: StateEvent[] = [];
  m.subscribe(() => {
    throw new Error('listener bug');
  });
  const off = m.subscribe((e) => seen.push(e));
  const r = m.apply(1, encodeCommand(createUser('a', 1)));
  assert.equal(r.ok, true);
  assert.equal(seen.length, 1);
  assert.equal(errors.length, 1);
  off();
  m.apply(2, encodeCommand(createUser('b', 2)));
  assert.equal(seen.length, 1);
});

test('an update that changes nothing succeeds without events', () => {
  const { run, events } = harness();
  run(createUser('a', 1, { status: 'disabled' }));
  run(createExit('e', 11));
  events.length = 0;
  assert.equal(run({ v: 1, op: 'user.update', id: 'a', status: 'disabled' }).ok, true);
  assert.equal(run({ v: 1, op: 'exit.update', id: 'e', weight: 1 }).ok, true);
  assert.deepEqual(events, []);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, hasCode } from '../../../shared/errors.ts';
import { encodeCommand } from '../../../handler/state/commands.ts';
import { createStateMachine, type StateMachine } from '../../../handler/state/machine.ts';
import type { StateEvent } from '../../../handler/state/types.ts';
import { Prng } from '../../support/prng.ts';
import { createUser, key, mixedCommands, raw } from './fixtures.ts';

function replay(commands = mixedCommands()): StateMachine {
  const m = createStateMachine();
  commands.forEach((c, i) => m.apply(i + 1, encodeCommand(c)));
  return m;
}

test('the same command sequence gives identical snapshot bytes on two machines', () => {
  const a = replay();
  const b = replay();
  assert.deepEqual(a.snapshot(), b.snapshot());
  assert.ok(a.snapshot().length > 0);
});

test('insertion order does not leak into the snapshot: users created in two orders encode the same', () => {
  const a = createStateMachine();
  const b = createStateMachine();
  a.apply(1, encodeCommand(createUser('x', 1)));
  a.apply(2, encodeCommand(createUser('y', 2)));
  b.apply(1, encodeCommand(createUser('y', 2)));
  b.apply(2, encodeCommand(createUser('x', 1)));
  assert.deepEqual(a.snapshot(), b.snapshot());
});

test('restore of a snapshot reproduces the state, byte for byte, and later applies agree', () => {
  const a = replay();
  const b = createStateMachine();
  b.restore(a.snapshot());
  assert.deepEqual(b.snapshot(), a.snapshot());
  assert.equal(b.appliedIndex, a.appliedIndex);
  assert.deepEqual(b.users.list(), a.users.list());
  assert.deepEqual(b.exits.list(), a.exits.list());
  assert.deepEqual(b.settings(), a.settings());
  assert.deepEqual(b.revocations(), a.revocations());
  assert.deepEqual(b.usageWatermarks(), a.usageWatermarks());
  const next = encodeCommand({ v: 1, op: 'usage.add', handlerId: 'h1', sequence: 1, deltas: [{ userId: 'alice', up: 1, down: 1 }] });
  assert.deepEqual(b.apply(a.appliedIndex + 1, next), a.apply(a.appliedIndex + 1, next), 'duplicate usage stays duplicate');
  assert.deepEqual(b.snapshot(), a.snapshot());
});

test('seeded random command streams stay deterministic across replicas and snapshots', () => {
  const prng = new Prng(42);
  const ids = ['a', 'b', 'c', 'd'];
  const pick = <T,>(xs: readonly T[]): T => xs[prng.int(0, xs.length - 1)]!;
  const a = createStateMachine();
  const b = createStateMachine();
  const c = createStateMachine();
  let applied = 0;
  for (let i = 1; i <= 400; i++) {
    const id = pick(ids);
    const n = prng.int(1, 6);
    const cmd = pick([
      () => ({ v: 1, op: 'user.create', id, publicKey: key(n), quota: prng.int(0, 1) === 0 ? null : prng.int(1, 500) }),
      () => ({ v: 1, op: 'user.update', id, status: pick(['active', 'disabled']) }),
      () => ({ v: 1, op: 'user.delete', id }),
      () => ({ v: 1, op: 'usage.add', handlerId: pick(['h1', 'h2']), sequence: prng.int(1, i), deltas: [{ userId: id, up: prng.int(0, 99), down: prng.int(0, 99) }] }),
      () => ({ v: 1, op: 'key.revoke', publicKey: key(n) }),
      () => ({ v: 1, op: 'key.unrevoke', publicKey: key(n) }),
      () => ({ v: 1, op: 'exit.create', id, region: pick(['us', 'eu']), publicKey: key(n), mode: 'reverse' }),
      () => ({ v: 1, op: 'exit.update', id, weight: prng.int(0, 4) }),
    ])();
    const bytes = raw(cmd);
    const ra = a.apply(i, bytes);
    assert.deepEqual(b.apply(i, bytes), ra);
    if (ra.ok) applied++;
    // c lags and catches up from a's snapshot every 50 entries.
    if (i % 50 === 0) c.restore(a.snapshot());
  }
  assert.ok(applied > 100, `only ${applied} of 400 random commands changed anything`);
  assert.deepEqual(a.snapshot(), b.snapshot());
  assert.deepEqual(c.snapshot(), a.snapshot());
});

test('restore refuses invalid snapshots with BAD_SNAPSHOT and keeps the old state', () => {
  const m = replay();
  const before = m.snapshot();
  const good = JSON.parse(new TextDecoder().decode(before));
  const bad = [
    new Uint8Array([1, 2, 3]),
    raw({ ...good, v: 2 }),
    raw({ ...good, format: 'other' }),
    raw({ ...good, extra: true }),
    raw({ ...good, users: [...good.users, good.users[0]] }),
    raw({ ...good, users: [good.users[0], { ...good.users[1], publicKey: good.users[0].publicKey }] }),
    raw({ ...good, exits: [{ ...good.exits[0], url: null, mode: 'dial' }] }),
    raw({ ...good, users: [{ ...good.users[0], used: -1 }] }),
    raw({ ...good, revocations: [[key(1), 'x'], [key(1), 'y']] }),
  ];
  for (const bytes of bad) {
    assert.throws(() => m.restore(bytes), (e) => hasCode(e, ErrorCode.BAD_SNAPSHOT));
    assert.deepEqual(m.snapshot(), before);
  }
});

test('restore announces the difference: restored, then changed users, exits and settings', () => {
  const target = createStateMachine();
  target.apply(1, encodeCommand(createUser('keep', 1)));
  target.apply(2, encodeCommand({ v: 1, op: 'settings.update', strictRegion: true }));
  const m = createStateMachine();
  m.apply(1, encodeCommand(createUser('gone', 2)));
  m.apply(2, encodeCommand(createUser('keep', 1)));
  m.apply(3, encodeCommand({ v: 1, op: 'exit.create', id: 'e', region: 'us', publicKey: key(5), mode: 'reverse' }));
  const events: StateEvent[] = [];
  m.subscribe((e) => events.push(e));
  m.restore(target.snapshot());
  assert.deepEqual(events, [
    { type: 'restored', appliedIndex: 2 },
    { type: 'userChanged', id: 'gone', user: undefined },
    { type: 'userDisabled', id: 'gone', reason: 'deleted' },
    { type: 'exitChanged', id: 'e', exit: undefined },
    { type: 'settingsChanged', settings: target.settings() },
  ]);
  assert.equal(m.appliedIndex, 2);
});

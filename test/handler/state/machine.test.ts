import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../../shared/errors.ts';
import { DEFAULT_SETTINGS } from '../../../handler/state/model.ts';
import { createExit, createUser, harness, key, keyBytes, raw } from './fixtures.ts';

test('user.create stores the user with defaults and zero usage; lookups by id and key agree', () => {
  const { m, run } = harness();
  assert.deepEqual(run(createUser('alice', 1)), { ok: true, index: 1 });
  const u = m.users.get('alice');
  assert.deepEqual(u, {
    id: 'alice',
    publicKey: key(1),
    status: 'active',
    quota: null,
    used: 0,
    rateLimit: null,
    allowedRegions: null,
    maxSessions: null,
  });
  assert.ok(Object.isFrozen(u));
  assert.equal(m.users.byPublicKey(key(1)), u);
  assert.equal(m.users.byPublicKey(keyBytes(1)), u);
  assert.deepEqual(m.users.usage('alice'), { userId: 'alice', up: 0, down: 0 });
  assert.equal(m.users.size, 1);
});

test('user.create refuses a taken id, a taken key and a revoked key with their codes', () => {
  const { m, run } = harness();
  run(createUser('alice', 1));
  run({ v: 1, op: 'key.revoke', publicKey: key(9) });
  const dupId = run(createUser('alice', 2));
  assert.equal(!dupId.ok && dupId.error.code, ErrorCode.ALREADY_EXISTS);
  assert.equal(!dupId.ok && dupId.error.field, 'id');
  const dupKey = run(createUser('bob', 1));
  assert.equal(!dupKey.ok && dupKey.error.code, ErrorCode.ALREADY_EXISTS);
  assert.equal(!dupKey.ok && dupKey.error.field, 'publicKey');
  const revoked = run(createUser('bob', 9));
  assert.equal(!revoked.ok && revoked.error.code, ErrorCode.KEY_REVOKED);
  assert.equal(m.users.get('bob'), undefined);
  assert.equal(m.appliedIndex, 5, 'refused entries still consume their index');
});

test('user.update changes only the given fields; null clears a limit; a new key replaces the old', () => {
  const { m, run } = harness();
  run(createUser('alice', 1, { quota: 100, rateLimit: 50 }));
  run({ v: 1, op: 'user.update', id: 'alice', quota: null, maxSessions: 2, publicKey: key(2) });
  const u = m.users.get('alice')!;
  assert.equal(u.quota, null);
  assert.equal(u.rateLimit, 50);
  assert.equal(u.maxSessions, 2);
  assert.equal(u.publicKey, key(2));
  assert.equal(m.users.byPublicKey(key(1)), undefined);
  assert.equal(m.users.byPublicKey(key(2)), u);
  const missing = run({ v: 1, op: 'user.update', id: 'nobody', status: 'disabled' });
  assert.equal(!missing.ok && missing.error.code, ErrorCode.NOT_FOUND);
});

test('user.update refuses a key held by another user and leaves the user unchanged', () => {
  const { m, run } = harness();
  run(createUser('alice', 1));
  run(createUser('bob', 2));
  const r = run({ v: 1, op: 'user.update', id: 'bob', publicKey: key(1), status: 'disabled' });
  assert.equal(!r.ok && r.error.code, ErrorCode.ALREADY_EXISTS);
  assert.equal(m.users.get('bob')!.status, 'active');
  assert.equal(m.users.byPublicKey(key(2))!.id, 'bob');
});

test('user.delete removes the user, its key and its usage', () => {
  const { m, run } = harness();
  run(createUser('alice', 1));
  assert.equal(run({ v: 1, op: 'user.delete', id: 'alice' }).ok, true);
  assert.equal(m.users.get('alice'), undefined);
  assert.equal(m.users.byPublicKey(key(1)), undefined);
  assert.equal(m.users.usage('alice'), undefined);
  const again = run({ v: 1, op: 'user.delete', id: 'alice' });
  assert.equal(!again.ok && again.error.code, ErrorCode.NOT_FOUND);
  assert.equal(run(createUser('alice2', 1)).ok, true, 'the key is free again');
});

test('admit answers unknown, revoked, disabled, quota or the user', () => {
  const { m, run } = harness();
  run(createUser('alice', 1, { quota: 10 }));
  run(createUser('bob', 2, { status: 'disabled' }));
  assert.equal(m.users.admit(key(1)).ok, true);
  assert.deepEqual(m.users.admit(key(7)), { ok: false, reason: 'unknown' });
  assert.deepEqual(m.users.admit(keyBytes(2)), m.users.admit(key(2)));
  const bob = m.users.admit(key(2));
  assert.equal(!bob.ok && bob.reason, 'disabled');
  run({ v: 1, op: 'usage.add', handlerId: 'h1', sequence: 1, deltas: [{ userId: 'alice', up: 5, down: 5 }] });
  const alice = m.users.admit(key(1));
  assert.equal(!alice.ok && alice.reason, 'quota');
  run({ v: 1, op: 'key.revoke', publicKey: key(1) });
  assert.deepEqual(m.users.admit(key(1)), { ok: false, reason: 'revoked' });
  assert.equal(m.users.byPublicKey(key(1)), undefined);
  assert.ok(m.isRevoked(keyBytes(1)));
});

test('user list pages in id order', () => {
  const { m, run } = harness();
  for (const [i, id] of ['d', 'b', 'a', 'c', 'e'].entries()) run(createUser(id, i + 1));
  assert.deepEqual(m.users.list({ limit: 2 }).map((u) => u.id), ['a', 'b']);
  assert.deepEqual(m.users.list({ after: 'b', limit: 2 }).map((u) => u.id), ['c', 'd']);
  assert.deepEqual(m.users.list({ after: 'bb' }).map((u) => u.id), ['c', 'd', 'e']);
  assert.deepEqual(m.users.list({ after: 'e' }), []);
});

test('exit.create applies defaults and dial mode needs a url', () => {
  const { m, run } = harness();
  run(createExit('exit-us', 11));
  assert.deepEqual(m.exits.get('exit-us'), {
    id: 'exit-us',
    url: 'wss://exit-us.example.net/link-secret',
    region: 'us',
    weight: 1,
    publicKey: key(11),
    mode: 'dial',
    state: 'active',
  });
  const noUrl = run({ v: 1, op: 'exit.create', id: 'x', region: 'eu', publicKey: key(12) });
  assert.equal(!noUrl.ok && noUrl.error.code, ErrorCode.BAD_COMMAND);
  assert.equal(!noUrl.ok && noUrl.error.field, 'url');
  assert.equal(run({ v: 1, op: 'exit.create', id: 'x', region: 'eu', publicKey: key(12), mode: 'reverse' }).ok, true);
  assert.equal(m.exits.byPublicKey(keyBytes(12))!.id, 'x');
  const dup = run(createExit('exit-us', 13));
  assert.equal(!dup.ok && dup.error.code, ErrorCode.ALREADY_EXISTS);
  const dupKey = run(createExit('other', 11));
  assert.equal(!dupKey.ok && dupKey.error.field, 'publicKey');
});

test('exit.update changes weight and state; descriptors feed the router', () => {
  const { m, run } = harness();
  run(createExit('b', 11, 'eu', 1));
  run(createExit('a', 12, 'us', 1));
  run({ v: 1, op: 'exit.update', id: 'a', weight: 3, state: 'draining' });
  assert.deepEqual(m.exits.descriptors(), [
    { id: 'a', region: 'us', weight: 3, state: 'draining' },
    { id: 'b', region: 'eu', weight: 1, state: 'active' },
  ]);
  const clearUrl = run({ v: 1, op: 'exit.update', id: 'a', url: null });
  assert.equal(!clearUrl.ok && clearUrl.error.code, ErrorCode.BAD_COMMAND, 'a dial exit keeps its url');
  assert.equal(run({ v: 1, op: 'exit.update', id: 'a', url: null, mode: 'reverse' }).ok, true);
  const missing = run({ v: 1, op: 'exit.update', id: 'zz', weight: 1 });
  assert.equal(!missing.ok && missing.error.code, ErrorCode.NOT_FOUND);
});

test('exit.delete removes the exit and frees its key', () => {
  const { m, run } = harness();
  run(createExit('a', 11));
  assert.equal(run({ v: 1, op: 'exit.delete', id: 'a' }).ok, true);
  assert.equal(m.exits.size, 0);
  assert.equal(m.exits.byPublicKey(key(11)), undefined);
  const again = run({ v: 1, op: 'exit.delete', id: 'a' });
  assert.equal(!again.ok && again.error.code, ErrorCode.NOT_FOUND);
});

test('key.revoke and key.unrevoke maintain the revocation list in key order', () => {
  const { m, run } = harness();
  run({ v: 1, op: 'key.revoke', publicKey: key(3), reason: 'lost laptop' });
  run({ v: 1, op: 'key.revoke', publicKey: key(1) });
  run({ v: 1, op: 'key.revoke', publicKey: key(3), reason: 'stolen laptop' });
  assert.deepEqual(m.revocations(), [
    { publicKey: key(1), reason: '' },
    { publicKey: key(3), reason: 'stolen laptop' },
  ].sort((a, b) => (a.publicKey < b.publicKey ? -1 : 1)));
  assert.equal(run({ v: 1, op: 'key.unrevoke', publicKey: key(1) }).ok, true);
  assert.equal(m.isRevoked(key(1)), false);
  const r = run({ v: 1, op: 'key.unrevoke', publicKey: key(1) });
  assert.equal(!r.ok && r.error.code, ErrorCode.NOT_FOUND);
});

test('settings.update changes only the given settings', () => {
  const { m, run } = harness();
  assert.deepEqual(m.settings(), DEFAULT_SETTINGS);
  run({ v: 1, op: 'settings.update', defaultRateLimit: 1000, strictRegion: true });
  assert.deepEqual(m.settings(), { ...DEFAULT_SETTINGS, defaultRateLimit: 1000, strictRegion: true });
  run({ v: 1, op: 'settings.update', defaultRateLimit: null });
  assert.equal(m.settings().defaultRateLimit, null);
  assert.equal(m.settings().strictRegion, true);
});

test('apply never throws: invalid bytes, invalid commands and bad indices answer ok false', () => {
  const { m, runRaw } = harness();
  const cases = [new Uint8Array([0xc3]), raw({ v: 1, op: 'nope' }), raw(null), raw({ v: 1, op: 'user.create' })];
  for (const bytes of cases) {
    let r;
    assert.doesNotThrow(() => (r = runRaw(bytes)));
    assert.equal(r!.ok, false);
  }
  assert.equal(m.appliedIndex, cases.length);
  for (const index of [0, -1, 1.5, Number.NaN]) {
    const r = m.apply(index, raw({ v: 1, op: 'user.delete', id: 'x' }));
    assert.equal(!r.ok && r.error.code, ErrorCode.BAD_COMMAND);
  }
  assert.equal(m.appliedIndex, cases.length);
});

test('empty entries, stale indices and gaps: no-op, skip, and advance', () => {
  const { m } = harness();
  assert.deepEqual(m.apply(1, new Uint8Array(0)), { ok: true, index: 1, noop: 'empty' });
  assert.equal(m.apply(5, raw({ v: 1, op: 'user.create', id: 'a', publicKey: key(1) })).ok, true);
  assert.equal(m.appliedIndex, 5);
  assert.deepEqual(m.apply(5, raw({ v: 1, op: 'user.delete', id: 'a' })), { ok: true, index: 5, noop: 'stale_index' });
  assert.deepEqual(m.apply(3, raw({ v: 1, op: 'user.delete', id: 'a' })), { ok: true, index: 3, noop: 'stale_index' });
  assert.ok(m.users.get('a'), 'stale entries change nothing');
});

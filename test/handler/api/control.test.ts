import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, codedError } from '../../../shared/errors.ts';
import { key, makeApp, STATUS } from './fixtures.ts';

type Json = Record<string, any>;
const json = async (res: Response): Promise<Json> => (await res.json()) as Json;

test('settings read and change, with sizes and durations as an operator writes them', async () => {
  const { admin } = makeApp();
  const before = await json(await admin('GET', '/settings'));
  assert.deepEqual(before.settings, { defaultRateLimit: null, defaultMaxSessions: null, usageReportInterval: 10_000, strictRegion: false });
  const after = await json(await admin('PATCH', '/settings', { defaultRateLimit: '2MB', usageReportInterval: '30s', strictRegion: true }));
  assert.deepEqual(after.settings, { defaultRateLimit: 2_000_000, defaultMaxSessions: null, usageReportInterval: 30_000, strictRegion: true });
  const bad = await admin('PATCH', '/settings', { usageReportInterval: '10ms' });
  assert.equal(bad.status, 400);
  assert.equal((await json(bad)).error.field, 'usageReportInterval');
});

test('revoking a key blocks its user; listing and lifting revocations', async () => {
  const { admin, store } = makeApp();
  await admin('POST', '/users', { id: 'alice', publicKey: key(1) });
  const revoked = await admin('POST', '/revocations', { publicKey: key(1), reason: 'laptop stolen' });
  assert.equal(revoked.status, 201);
  assert.deepEqual(store.view.users.admit(key(1)), { ok: false, reason: 'revoked' });
  const list = await json(await admin('GET', '/revocations'));
  assert.deepEqual(list, { revocations: [{ publicKey: key(1), reason: 'laptop stolen' }], next: null });
  assert.equal((await admin('DELETE', `/revocations/${key(1)}`)).status, 204);
  assert.equal(store.view.users.admit(key(1)).ok, true);
  const again = await admin('DELETE', `/revocations/${key(1)}`);
  assert.equal(again.status, 404);
  const badKey = await admin('DELETE', '/revocations/not-a-key');
  assert.equal((await json(badKey)).error.field, 'publicKey');
});

test('usage across users, with the handlers\' watermarks', async () => {
  const { admin, store } = makeApp();
  await admin('POST', '/users', { id: 'alice', publicKey: key(1) });
  await admin('POST', '/users', { id: 'bob', publicKey: key(2), quota: 100 });
  await store.propose({ v: 1, op: 'usage.add', handlerId: 'h2', sequence: 4, deltas: [{ userId: 'bob', up: 60, down: 60 }] });
  const usage = await json(await admin('GET', '/usage'));
  assert.deepEqual(usage, {
    usage: [
      { userId: 'alice', up: 0, down: 0, used: 0, quota: null, remaining: null },
      { userId: 'bob', up: 60, down: 60, used: 120, quota: 100, remaining: 0 },
    ],
    next: null,
    watermarks: { h2: 4 },
  });
});

test('admin reads wait for a fresh read point unless ?stale=true', async () => {
  const { admin, store } = makeApp();
  await admin('GET', '/users');
  await admin('GET', '/exits');
  await admin('GET', '/settings');
  assert.equal(store.reads, 3);
  await admin('GET', '/users?stale=true');
  assert.equal(store.reads, 3);
});

test('a store that cannot reach the leader answers 503 with its code; a bug answers a bare 500', async () => {
  const { admin, store } = makeApp();
  store.rejectWith = codedError(Error, ErrorCode.NOT_LEADER, 'No leader is known');
  const write = await admin('POST', '/users', { id: 'alice', publicKey: key(1) });
  assert.equal(write.status, 503);
  assert.equal((await json(write)).error.code, ErrorCode.NOT_LEADER);
  const read = await admin('GET', '/users');
  assert.equal(read.status, 503);
  store.rejectWith = new Error('secret internals');
  const bug = await admin('GET', '/users');
  assert.equal(bug.status, 500);
  assert.deepEqual(await json(bug), { error: { code: ErrorCode.INTERNAL, message: 'Internal error' } });
});

test('cluster status comes from the injected provider', async () => {
  const { admin } = makeApp();
  const res = await admin('GET', '/cluster');
  assert.equal(res.status, 200);
  assert.deepEqual((await json(res)).cluster, STATUS);
});

test('member operations and leadership transfer are delegated to the cluster control', async () => {
  const { admin, control } = makeApp();
  assert.equal((await admin('POST', '/cluster/members', { id: 'h4', url: 'wss://h4.internal:7443', learner: true })).status, 200);
  await admin('POST', '/cluster/members/h4/promote');
  await admin('POST', '/cluster/members', { id: 'h5', url: 'wss://h5.internal:7443' });
  await admin('DELETE', '/cluster/members/h2');
  await admin('POST', '/cluster/transfer-leadership', { to: 'h3' });
  await admin('POST', '/cluster/transfer-leadership', {});
  assert.deepEqual(control.calls, [
    'addLearner h4 wss://h4.internal:7443',
    'promoteLearner h4',
    'addMember h5 wss://h5.internal:7443',
    'removeMember h2',
    'transferLeadership h3',
    'transferLeadership (any)',
  ]);
  const bad = await admin('POST', '/cluster/members', { id: 'h6', url: 'ftp://x' });
  assert.equal((await json(bad)).error.field, 'url');
});

test('refused cluster operations answer 409 with the Raft code; a missing control answers 501', async () => {
  const { admin, control } = makeApp();
  control.failWith = codedError(Error, ErrorCode.CONF_CHANGE_REJECTED, 'A membership change is already pending');
  const res = await admin('DELETE', '/cluster/members/h2');
  assert.equal(res.status, 409);
  assert.equal((await json(res)).error.code, ErrorCode.CONF_CHANGE_REJECTED);
  const bare = makeApp({ noCluster: true });
  const noControl = await bare.admin('POST', '/cluster/transfer-leadership', {});
  assert.equal(noControl.status, 501);
  assert.equal((await json(noControl)).error.code, ErrorCode.UNSUPPORTED);
  assert.equal((await bare.admin('GET', '/cluster')).status, 501);
});

test('unknown admin paths answer 404 JSON once authorised', async () => {
  const { admin } = makeApp();
  const res = await admin('GET', '/nothing-here');
  assert.equal(res.status, 404);
  assert.equal((await json(res)).error.code, ErrorCode.NOT_FOUND);
});

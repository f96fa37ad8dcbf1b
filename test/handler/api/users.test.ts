import { test } from 'node:test';
import assert from 'node:assert/strict';
import { x25519 } from '@noble/curves/ed25519.js';
import { decodeBase64Url } from '../../../shared/config/base64url.ts';
import { ErrorCode } from '../../../shared/errors.ts';
import { createLogger } from '../../../shared/log.ts';
import { createApiApp } from '../../../handler/api/app.ts';
import { LocalStateStore } from '../../../handler/state/store.ts';
import { key, makeApp, TOKEN } from './fixtures.ts';

type Json = Record<string, any>;
const json = async (res: Response): Promise<Json> => (await res.json()) as Json;

test('create, get, list, update, disable, enable and delete a user', async () => {
  const { admin, store } = makeApp();
  const created = await admin('POST', '/users', { id: 'alice', publicKey: key(1), quota: '10MB', allowedRegions: ['US'] });
  assert.equal(created.status, 201);
  const body = await json(created);
  assert.deepEqual(body, {
    user: {
      id: 'alice',
      publicKey: key(1),
      status: 'active',
      quota: 10_000_000,
      used: 0,
      rateLimit: null,
      allowedRegions: ['us'],
      maxSessions: null,
    },
  });
  assert.equal(created.headers.get('cache-control'), 'no-store');

  assert.deepEqual((await json(await admin('GET', '/users/alice'))).user, body.user);
  await admin('POST', '/users', { id: 'bob', publicKey: key(2) });
  const list = await json(await admin('GET', '/users'));
  assert.deepEqual(list.users.map((u: Json) => u.id), ['alice', 'bob']);
  assert.equal(list.next, null);

  const updated = await json(await admin('PATCH', '/users/alice', { rateLimit: '1MiB', quota: null }));
  assert.equal(updated.user.rateLimit, 1_048_576);
  assert.equal(updated.user.quota, null);

  assert.equal((await json(await admin('POST', '/users/alice/disable'))).user.status, 'disabled');
  assert.equal(store.view.users.admit(key(1)).ok, false);
  assert.equal((await json(await admin('POST', '/users/alice/enable'))).user.status, 'active');

  const deleted = await admin('DELETE', '/users/alice');
  assert.equal(deleted.status, 204);
  assert.equal((await admin('GET', '/users/alice')).status, 404);
});

test('a user created without a key gets a generated X25519 pair, private key returned once', async () => {
  const { admin, store } = makeApp();
  const res = await admin('POST', '/users', { id: 'carol' });
  assert.equal(res.status, 201);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  const body = await json(res);
  const priv = decodeBase64Url(body.privateKey)!;
  assert.equal(priv.length, 32);
  const derived = x25519.getPublicKey(priv);
  assert.deepEqual(decodeBase64Url(body.user.publicKey), derived);
  assert.equal(store.view.users.byPublicKey(derived)?.id, 'carol');
  const again = await json(await admin('GET', '/users/carol'));
  assert.equal(again.privateKey, undefined, 'the private key is not stored');
});

test('list pages with limit and after', async () => {
  const { admin } = makeApp();
  for (const [i, id] of ['a', 'b', 'c'].entries()) await admin('POST', '/users', { id, publicKey: key(i + 1) });
  const first = await json(await admin('GET', '/users?limit=2'));
  assert.deepEqual(first.users.map((u: Json) => u.id), ['a', 'b']);
  assert.equal(first.next, 'b');
  const second = await json(await admin('GET', `/users?limit=2&after=${first.next}`));
  assert.deepEqual(second.users.map((u: Json) => u.id), ['c']);
  assert.equal(second.next, null);
});

test('invalid bodies answer 400 BAD_REQUEST naming the field', async () => {
  const { admin } = makeApp();
  const cases: Array<[string, string, unknown, string | undefined]> = [
    ['POST', '/users', { id: 'bad id!', publicKey: key(1) }, 'id'],
    ['POST', '/users', { id: 'u', publicKey: 'short' }, 'publicKey'],
    ['POST', '/users', { id: 'u', publicKey: key(1), quota: 'lots' }, 'quota'],
    ['POST', '/users', { id: 'u', publicKey: key(1), maxSessions: 0 }, 'maxSessions'],
    ['POST', '/users', { id: 'u', publicKey: key(1), allowedRegions: ['us', 'bad region'] }, 'allowedRegions.1'],
    ['POST', '/users', { id: 'u', publicKey: key(1), admin: true }, 'admin'],
    ['POST', '/users', { publicKey: key(1) }, 'id'],
    ['PATCH', '/users/u', { status: 'paused' }, 'status'],
    ['PATCH', '/users/u', {}, undefined],
    ['POST', '/users', '{"id": ', undefined],
    ['POST', '/users', '[1]', undefined],
  ];
  for (const [method, path, body, field] of cases) {
    const res = await admin(method, path, body);
    assert.equal(res.status, 400, `${method} ${path} ${JSON.stringify(body)}`);
    const err = (await json(res)).error;
    assert.equal(err.code, ErrorCode.BAD_REQUEST);
    assert.equal(err.field, field, `${method} ${path} ${JSON.stringify(body)}`);
  }
  const badQuery = await admin('GET', '/users?limit=0');
  assert.equal(badQuery.status, 400);
  assert.equal((await json(badQuery)).error.field, 'limit');
  const badId = await admin('GET', '/users/bad%20id');
  assert.equal((await json(badId)).error.field, 'id');
});

test('state conflicts answer 409 and missing users 404, with the state code', async () => {
  const { admin } = makeApp();
  await admin('POST', '/users', { id: 'alice', publicKey: key(1) });
  const dup = await admin('POST', '/users', { id: 'alice', publicKey: key(2) });
  assert.equal(dup.status, 409);
  const dupError = (await json(dup)).error;
  assert.equal(dupError.code, ErrorCode.ALREADY_EXISTS);
  assert.equal(dupError.field, 'id');
  const sameKey = await admin('POST', '/users', { id: 'bob', publicKey: key(1) });
  assert.equal(sameKey.status, 409);
  assert.equal((await json(sameKey)).error.field, 'publicKey');
  await admin('POST', '/revocations', { publicKey: key(9) });
  const revoked = await admin('POST', '/users', { id: 'bob', publicKey: key(9) });
  assert.equal(revoked.status, 409);
  assert.equal((await json(revoked)).error.code, ErrorCode.KEY_REVOKED);
  for (const [method, path] of [['PATCH', '/users/ghost'], ['DELETE', '/users/ghost'], ['POST', '/users/ghost/disable'], ['GET', '/users/ghost/usage']]) {
    const res = await admin(method!, path!, method === 'PATCH' ? { status: 'disabled' } : undefined);
    assert.equal(res.status, 404, `${method} ${path}`);
    assert.equal((await json(res)).error.code, ErrorCode.NOT_FOUND);
  }
});

test('per-user usage and its reset', async () => {
  const { admin, store } = makeApp();
  await admin('POST', '/users', { id: 'alice', publicKey: key(1), quota: 1000 });
  await store.propose({ v: 1, op: 'usage.add', handlerId: 'h1', sequence: 1, deltas: [{ userId: 'alice', up: 100, down: 300 }] });
  const usage = await json(await admin('GET', '/users/alice/usage'));
  assert.deepEqual(usage, { usage: { userId: 'alice', up: 100, down: 300, used: 400, quota: 1000, remaining: 600 } });
  const reset = await json(await admin('POST', '/users/alice/usage/reset'));
  assert.deepEqual(reset.usage, { userId: 'alice', up: 0, down: 0, used: 0, quota: 1000, remaining: 1000 });
});

test('a body over the limit answers 413', async () => {
  const { admin } = makeApp({ admin: { bodyLimit: 100 } });
  const res = await admin('POST', '/users', { id: 'alice', publicKey: key(1), padding: 'x'.repeat(200) });
  assert.equal(res.status, 413);
  assert.equal((await json(res)).error.code, ErrorCode.BAD_REQUEST);
});

test('admin changes are logged by id and op; keys and the token never reach the log', async () => {
  const lines: string[] = [];
  const logger = createLogger({ role: 'handler', format: 'json', destination: { write: (l: string) => void lines.push(l) } });
  const logged = createApiApp({
    readiness: () => ({ ready: true }),
    logger,
    admin: { token: TOKEN, store: new LocalStateStore() },
  });
  const res = await logged.request('/admin/v1/users', {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ id: 'dave' }),
  });
  const body = await json(res);
  await logged.request('/admin/v1/users/dave', {
    method: 'PATCH',
    headers: { authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ publicKey: key(5) }),
  });
  const text = lines.join('');
  assert.match(text, /"op":"user.create"/);
  assert.match(text, /"user":"dave"/);
  for (const secret of [body.privateKey, body.user.publicKey, key(5), TOKEN]) assert.equal(text.includes(secret), false);
});

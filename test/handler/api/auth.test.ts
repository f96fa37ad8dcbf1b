import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bearerAuth, constantTimeEqual, UNAUTHORIZED_BODY } from '../../../handler/api/auth.ts';
import { ErrorCode, hasCode } from '../../../shared/errors.ts';
import { makeApp, TOKEN } from './fixtures.ts';

test('constantTimeEqual is true only for equal bytes of equal length', () => {
  const a = new Uint8Array([1, 2, 3, 4]);
  assert.equal(constantTimeEqual(a, new Uint8Array([1, 2, 3, 4])), true);
  assert.equal(constantTimeEqual(a, new Uint8Array([1, 2, 3, 5])), false);
  assert.equal(constantTimeEqual(a, new Uint8Array([0, 2, 3, 4])), false);
  assert.equal(constantTimeEqual(a, new Uint8Array([1, 2, 3])), false);
  assert.equal(constantTimeEqual(new Uint8Array(0), new Uint8Array(0)), true);
});

test('admin endpoints answer 401 without a token, with a wrong token and with another scheme', async () => {
  const { app } = makeApp();
  const attempts: Array<Record<string, string>> = [
    {},
    { authorization: 'Bearer wrong-token' },
    { authorization: `Bearer ${TOKEN}x` },
    { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
    { authorization: `Basic ${TOKEN}` },
    { authorization: TOKEN },
    { authorization: 'Bearer' },
  ];
  for (const headers of attempts) {
    for (const path of ['/admin/v1/users', '/admin/v1/no-such-route', '/admin/v2/users', '/admin']) {
      const res = await app.request(path, { headers });
      assert.equal(res.status, 401, `${path} ${JSON.stringify(headers)}`);
      assert.deepEqual(await res.json(), UNAUTHORIZED_BODY, 'every failure looks the same');
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer /);
    }
  }
});

test('the right token opens the admin API; the scheme name is case-insensitive', async () => {
  const { app } = makeApp();
  for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
    const res = await app.request('/admin/v1/users', { headers: { authorization: `${scheme} ${TOKEN}` } });
    assert.equal(res.status, 200);
  }
});

test('every admin request, even without a header, goes through the injected constant-time compare', async () => {
  const seen: Array<[number, number]> = [];
  const equals = (a: Uint8Array, b: Uint8Array) => {
    seen.push([a.length, b.length]);
    return constantTimeEqual(a, b);
  };
  const { app } = makeApp({ admin: { equals } });
  await app.request('/admin/v1/users');
  await app.request('/admin/v1/users', { headers: { authorization: 'Bearer x' } });
  await app.request('/admin/v1/users', { headers: { authorization: `Bearer ${TOKEN}${'y'.repeat(500)}` } });
  await app.request('/admin/v1/users', { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(seen.length, 4, 'one comparison per request');
  assert.ok(seen.every(([a, b]) => a === 32 && b === 32), 'digests of equal length, whatever the token length');
});

test('probes need no token', async () => {
  const { app } = makeApp();
  assert.equal((await app.request('/health')).status, 200);
  assert.equal((await app.request('/ready')).status, 200);
  assert.equal((await app.request('/metrics')).status, 200);
});

test('an empty configured token is refused with BAD_CONFIG', () => {
  assert.throws(() => bearerAuth({ token: '' }), (e) => hasCode(e, ErrorCode.BAD_CONFIG));
});

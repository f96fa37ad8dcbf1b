import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../../shared/errors.ts';
import type { ExitSnapshot } from '../../../handler/routing/types.ts';
import type { StateEvent } from '../../../handler/state/types.ts';
import { key, makeApp } from './fixtures.ts';

type Json = Record<string, any>;
const json = async (res: Response): Promise<Json> => (await res.json()) as Json;

test('create, list, update weight and state, and delete an exit; the router hears each change', async () => {
  const { admin, store } = makeApp();
  const events: StateEvent[] = [];
  store.view.subscribe((e) => events.push(e));
  const created = await admin('POST', '/exits', { id: 'exit-us', url: 'wss://us.example.net/link', region: 'US', publicKey: key(11) });
  assert.equal(created.status, 201);
  assert.deepEqual((await json(created)).exit, {
    id: 'exit-us',
    url: 'wss://us.example.net/link',
    region: 'us',
    weight: 1,
    publicKey: key(11),
    mode: 'dial',
    state: 'active',
  });
  await admin('POST', '/exits', { id: 'exit-asia', region: 'asia', publicKey: key(12), mode: 'reverse', weight: 2 });
  const patched = await json(await admin('PATCH', '/exits/exit-us', { weight: 3, state: 'draining' }));
  assert.equal(patched.exit.weight, 3);
  assert.equal(patched.exit.state, 'draining');
  assert.deepEqual(store.view.exits.descriptors(), [
    { id: 'exit-asia', region: 'asia', weight: 2, state: 'active' },
    { id: 'exit-us', region: 'us', weight: 3, state: 'draining' },
  ]);
  const list = await json(await admin('GET', '/exits'));
  assert.deepEqual(list.exits.map((e: Json) => e.id), ['exit-asia', 'exit-us']);
  assert.equal((await admin('DELETE', '/exits/exit-asia')).status, 204);
  assert.equal((await admin('GET', '/exits/exit-asia')).status, 404);
  assert.deepEqual(
    events.map((e) => e.type === 'exitChanged' && `${e.id}:${e.exit?.weight ?? 'gone'}`),
    ['exit-us:1', 'exit-asia:2', 'exit-us:3', 'exit-asia:gone'],
  );
});

test('exit validation: 400 naming the field, and dial mode needs a url', async () => {
  const { admin } = makeApp();
  const cases: Array<[unknown, string]> = [
    [{ id: 'e', region: 'us', publicKey: key(1), url: 'http://x/y' }, 'url'],
    [{ id: 'e', region: 'us', publicKey: key(1), url: 'wss://x/y', weight: -1 }, 'weight'],
    [{ id: 'e', region: 'us', publicKey: key(1), url: 'wss://x/y', state: 'paused' }, 'state'],
    [{ id: 'e', region: 'us', url: 'wss://x/y' }, 'publicKey'],
  ];
  for (const [body, field] of cases) {
    const res = await admin('POST', '/exits', body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal((await json(res)).error.field, field);
  }
  const noUrl = await admin('POST', '/exits', { id: 'e', region: 'us', publicKey: key(1) });
  assert.equal(noUrl.status, 400);
  assert.deepEqual([(await json(noUrl)).error.code, 'url'], [ErrorCode.BAD_COMMAND, 'url']);
  const missing = await admin('PATCH', '/exits/ghost', { weight: 1 });
  assert.equal(missing.status, 404);
});

test('exit listings carry live health from the router when it is injected', async () => {
  const health = { status: 'up' } as unknown as ExitSnapshot['health'];
  const { admin } = makeApp({
    admin: { exitHealth: () => [{ id: 'exit-us', region: 'us', weight: 1, state: 'active', health }] },
  });
  await admin('POST', '/exits', { id: 'exit-us', url: 'wss://us.example.net/link', region: 'us', publicKey: key(11) });
  await admin('POST', '/exits', { id: 'exit-eu', url: 'wss://eu.example.net/link', region: 'eu', publicKey: key(12) });
  const list = await json(await admin('GET', '/exits'));
  assert.deepEqual(list.exits.map((e: Json) => [e.id, e.health]), [['exit-eu', null], ['exit-us', { status: 'up' }]]);
  assert.deepEqual((await json(await admin('GET', '/exits/exit-us'))).exit.health, { status: 'up' });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { ExitEntrySchema, UserSchema } from '../../../shared/config/handler.ts';
import { ErrorCode, hasCode } from '../../../shared/errors.ts';
import { LocalStateStore } from '../../../handler/state/store.ts';
import { seedCommandsFromConfig } from '../../../handler/state/seed.ts';
import type { Command } from '../../../handler/state/commands.ts';
import { createUser, key } from './fixtures.ts';

const seedConfig = (users: unknown[], exits: unknown[]) => ({
  users: z.array(UserSchema).parse(users),
  exits: z.array(ExitEntrySchema).parse(exits),
});

test('LocalStateStore applies each proposal at once, at the next index', async () => {
  const store = new LocalStateStore();
  assert.deepEqual(await store.propose(createUser('a', 1)), { ok: true, index: 1 });
  assert.deepEqual(await store.propose(createUser('b', 2)), { ok: true, index: 2 });
  await store.read();
  assert.equal(store.view.users.size, 2);
  assert.equal(store.view.appliedIndex, 2);
});

test('an invalid proposal resolves ok false with index 0 and consumes no index', async () => {
  const store = new LocalStateStore();
  const r = await store.propose({ v: 1, op: 'user.delete', id: '!!' } as Command);
  assert.equal(r.ok, false);
  assert.equal(r.index, 0);
  assert.equal(!r.ok && r.error.code, ErrorCode.BAD_COMMAND);
  assert.equal(store.view.appliedIndex, 0);
  const refused = await store.propose({ v: 1, op: 'user.delete', id: 'ghost' });
  assert.equal(!refused.ok && refused.error.code, ErrorCode.NOT_FOUND);
  assert.equal(refused.index, 1);
});

test('propose and read reject with ABORTED when the signal is already aborted', async () => {
  const store = new LocalStateStore();
  const signal = AbortSignal.abort();
  await assert.rejects(store.propose(createUser('a', 1), signal), (e) => hasCode(e, ErrorCode.ABORTED));
  await assert.rejects(store.read(signal), (e) => hasCode(e, ErrorCode.ABORTED));
  assert.equal(store.view.users.size, 0);
});

test('seeding from config builds users then exits with config defaults', () => {
  const config = seedConfig(
    [
      { id: 'alice', publicKey: key(1), quota: '10MB', allowedRegions: ['US', 'eu'] },
      { id: 'bob', publicKey: key(2), status: 'disabled' },
    ],
    [
      { id: 'exit-us', url: 'wss://us.example.net/secret', region: 'us', publicKey: key(11) },
      { id: 'exit-asia', region: 'asia', publicKey: key(12), mode: 'reverse', weight: 2, state: 'draining' },
    ],
  );
  assert.deepEqual(
    seedCommandsFromConfig(config).map((s) => s.path),
    ['users[0]', 'users[1]', 'exits[0]', 'exits[1]'],
  );
  const store = LocalStateStore.fromConfig(config);
  const alice = store.view.users.get('alice')!;
  assert.equal(alice.quota, 10_000_000);
  assert.deepEqual(alice.allowedRegions, ['us', 'eu']);
  assert.equal(alice.rateLimit, null);
  assert.equal(store.view.users.get('bob')!.status, 'disabled');
  assert.deepEqual(store.view.exits.descriptors(), [
    { id: 'exit-asia', region: 'asia', weight: 2, state: 'draining' },
    { id: 'exit-us', region: 'us', weight: 1, state: 'active' },
  ]);
  assert.equal(store.view.exits.get('exit-asia')!.url, null);
});

test('seeding refuses two configured users with one key', () => {
  const config = seedConfig(
    [
      { id: 'alice', publicKey: key(1) },
      { id: 'bob', publicKey: key(1) },
    ],
    [],
  );
  assert.throws(() => LocalStateStore.fromConfig(config), (e) => hasCode(e, ErrorCode.BAD_CONFIG));
});

test('seeding with an unresolved key file throws BAD_CONFIG', () => {
  const config = seedConfig([{ id: 'alice', publicKey: { file: 'alice.pub' } }], []);
  assert.throws(() => seedCommandsFromConfig(config), (e) => hasCode(e, ErrorCode.BAD_CONFIG));
});

import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startRaftStateStore } from '../../../../handler/raft/index.ts';
import type { Command } from '../../../../handler/state/commands.ts';
import { encodeKey, generateKeyPair } from '../../../../shared/crypto/keys.ts';
import { ErrorCode } from '../../../../shared/errors.ts';
import { freePorts } from '../../../support/e2e/ports.ts';
import { CLUSTER_KEY, FAST, tempDir, waitFor } from './helpers.ts';

const key = (): string => encodeKey(generateKeyPair().publicKey);
const userCreate = (id: string): Command => ({ v: 1, op: 'user.create', id, publicKey: key() });

describe('Raft-backed StateStore for handler/state', () => {
  const root = tempDir('store');
  const closers: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of closers) await c();
    root.cleanup();
  });

  async function open(name: string, extra = {}) {
    const [port] = await freePorts(1);
    const r = await startRaftStateStore({
      id: 'h1',
      dataDir: join(root.dir, name),
      staticKey: CLUSTER_KEY,
      listen: { hostname: '127.0.0.1', port: port!, path: '/raft' },
      ...FAST,
      ...extra,
    });
    closers.push(() => r.node.close());
    return r;
  }

  it('proposes a command and resolves with the apply result; the view shows it', async () => {
    const { store } = await open('propose');
    const r = await store.propose(userCreate('alice'));
    assert.equal(r.ok, true);
    assert.ok(r.index > 0);
    assert.equal(store.view.users.get('alice')?.status, 'active');
    const dup = await store.propose(userCreate('alice'));
    assert.equal(dup.ok, false);
    assert.equal(!dup.ok && dup.error.code, ErrorCode.ALREADY_EXISTS);
  });

  it('answers an invalid command with index 0 without touching the log', async () => {
    const { store, node } = await open('invalid');
    await store.read();
    const before = node.stats().lastIndex;
    const r = await store.propose({ v: 1, op: 'user.create', id: '??' } as unknown as Command);
    assert.equal(r.ok, false);
    assert.equal(r.index, 0);
    assert.equal(node.stats().lastIndex, before);
  });

  it('seeds an empty replicated state once this node leads, and keeps it after a restart', async () => {
    const seed = [
      { path: 'users[0]', command: userCreate('u0') },
      { path: 'users[1]', command: userCreate('u1') },
    ];
    const first = await open('seed', { seedCommands: seed });
    await waitFor('the seed users to be applied', () => first.store.view.users.size === 2);
    await first.node.close();
    const again = await open('seed', { seedCommands: [{ path: 'users[0]', command: userCreate('other') }] });
    await again.store.read();
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(again.store.view.users.list().map((u) => u.id), ['u0', 'u1'], 'a non-empty state is not seeded again');
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Role } from '../../../shared/config/index.ts';
import { diskIO } from './io.ts';

const dir = fileURLToPath(new URL('../../../deploy/examples/', import.meta.url));
const files = readdirSync(dir).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
const env = { APFSDS_ADMIN_TOKEN: 'example-admin-token-0123456789', APFSDS_USER_KEY: 'EXAMPLE-user-alice-private-key-REPLACE-ME-A' };

function roleOf(file: string): Role {
  if (file.startsWith('all-in-one')) return 'up';
  if (file.startsWith('handler-')) return 'handler';
  if (file.startsWith('exit-')) return 'exit';
  if (file.startsWith('client')) return 'client';
  throw new Error(`deploy/examples/${file}: name it all-in-one*, handler-*, exit-* or client* so its role is known`);
}

describe('deploy/examples', () => {
  it('holds the all-in-one, three handlers, three exits and a client', () => {
    for (const f of ['all-in-one.yaml', 'handler-h1.yaml', 'handler-h2.yaml', 'handler-h3.yaml', 'exit-us.yaml', 'exit-eu.yaml', 'exit-asia.yaml', 'client.yaml']) {
      assert.ok(files.includes(f), `${f} is missing`);
    }
  });

  for (const file of files) {
    it(`${file} loads and validates`, async () => {
      await loadConfig(roleOf(file), `${dir}${file}`, diskIO(env));
    });
  }

  it('the cluster, exits and client agree on keys, paths and weights', async () => {
    const io = diskIO(env);
    const h1 = await loadConfig('handler', `${dir}handler-h1.yaml`, io);
    const client = await loadConfig('client', `${dir}client.yaml`, io);
    const exits = await Promise.all(['us', 'eu', 'asia'].map((r) => loadConfig('exit', `${dir}exit-${r}.yaml`, io)));
    const cluster = h1.clusterKey.publicKey.toBase64Url();
    assert.equal(client.clusterPublicKey.toBase64Url(), cluster);
    for (const e of exits) assert.equal(e.clusterPublicKey.toBase64Url(), cluster);
    assert.ok(client.handlers.every((u) => new URL(u).pathname === h1.path));
    const alice = h1.users.find((u) => u.id === 'alice');
    assert.equal(alice?.publicKey.toBase64Url(), client.key.publicKey.toBase64Url());
    for (const e of exits) {
      const entry = h1.exits.find((x) => x.id === e.id);
      assert.equal(entry?.publicKey.toBase64Url(), e.key.publicKey.toBase64Url(), e.id);
      assert.equal(entry?.region, e.region);
    }
    assert.deepEqual(h1.exits.map((e) => [e.region, e.weight]), [['us', 1], ['eu', 1], ['asia', 2]]);
    for (const node of ['h2', 'h3']) {
      const h = await loadConfig('handler', `${dir}handler-${node}.yaml`, io);
      assert.equal(h.nodeId, node);
      assert.equal(h.clusterKey.publicKey.toBase64Url(), cluster);
      assert.deepEqual(h.raft.peers, h1.raft.peers);
    }
  });
});

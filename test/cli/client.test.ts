import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeBase64Url } from '../../shared/config/base64url.ts';
import { runtime } from '../../shared/runtime/detect.ts';
import { startFakeHandler } from '../client/fake-handler.ts';
import { curl, makeUser, startOrigin, within } from '../client/helpers.ts';
import { spawnCli } from './spawn.ts';

test('apfsds client --config FILE logs ready with its port, proxies curl, and stops on SIGTERM', async () => {
  const user = makeUser();
  const handler = await startFakeHandler({ users: [user.publicKey] });
  const origin = await startOrigin();
  const dir = mkdtempSync(join(tmpdir(), 'apfsds-cli-client-'));
  const keyFile = join(dir, 'user.key');
  writeFileSync(keyFile, `${encodeBase64Url(user.privateKey)}\n`, { mode: 0o600 });
  const configFile = join(dir, 'client.yaml');
  writeFileSync(
    configFile,
    [
      'listen: { host: 127.0.0.1, port: 0 }',
      `handlers: [${handler.url}]`,
      `clusterPublicKey: ${encodeBase64Url(handler.clusterPublicKey)}`,
      'key: { privateKey: { file: user.key } }',
      'poolSize: 1',
      'log: { format: json }',
      '',
    ].join('\n'),
  );
  const child = spawnCli(['client', '--config', configFile]);
  try {
    const ready = await child.waitFor((l) => l['msg'] === 'ready');
    assert.equal(ready['role'], 'client');
    const port = ready['port'] as number;
    assert.ok(port > 0);
    await within(handler.waitSessions(1), 20_000, 'session');
    const r = await curl(['-x', `socks5h://127.0.0.1:${port}`, `http://localhost:${origin.port}/cli`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^hello GET \/cli /);
    const code = await child.stop();
    // Deno's child_process reports the signal it sent rather than the child's own exit status.
    if (runtime === 'node') assert.equal(code, 0, child.stderr());
    assert.ok(child.lines.some((l) => l['msg'] === 'client stopped'));
  } finally {
    child.proc.kill('SIGKILL');
    await handler.close();
    await origin.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('apfsds client with a bad config exits 1 and names the field', async () => {
  const child = spawnCli(['client'], { APFSDS_CONFIG: '', APFSDS_CLIENT__POOL_SIZE: '99' });
  const code = await within(child.exited, 60_000, 'exit');
  assert.equal(code, 1);
  assert.match(child.stderr(), /handlers/);
  assert.match(child.stderr(), /poolSize/);
});

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runtime } from '../../../shared/runtime/detect.ts';
import { CLUSTER, connectClient, SECRET_PATH, testKey, within } from '../gateway/harness.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('apfsds handler (command line)', { skip: process.platform === 'win32' ? 'POSIX signals only' : false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'apfsds-handler-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('starts from a config file as a Raft cluster of one, logs ready with its ports, serves a session and stops on SIGTERM', async () => {
    const user = testKey();
    writeFileSync(join(dir, 'cluster.key'), `${CLUSTER.privateText}\n`, { mode: 0o600 });
    writeFileSync(
      join(dir, 'handler.yaml'),
      [
        'nodeId: h-cli',
        'listen: { host: 127.0.0.1, port: 0 }',
        `path: ${SECRET_PATH}`,
        'clusterKey:',
        '  privateKey: { file: cluster.key }',
        'admin: { host: 127.0.0.1, port: 0, token: cli-test-admin-token-0001 }',
        `raft: { dataDir: ${JSON.stringify(join(dir, 'raft'))}, tickInterval: 10 }`,
        'log: { format: json }',
        'users:',
        `  - { id: alice, publicKey: ${user.publicText} }`,
        '',
      ].join('\n'),
    );
    const cli = join(root, 'cli', 'main.ts');
    const argv = runtime === 'deno' ? ['run', '-A', cli, 'handler', '--config', join(dir, 'handler.yaml')] : ['--import', 'tsx', cli, 'handler', '--config', join(dir, 'handler.yaml')];
    const env: Record<string, string | undefined> = { ...process.env, APFSDS_LOG_LEVEL: 'info' };
    delete env['APFSDS_CONFIG'];
    const proc = spawn(process.execPath, argv, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env });
    let stderr = '';
    proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | string | null>((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal)));
    const lines: Array<Record<string, unknown>> = [];
    const ready = within(
      new Promise<Record<string, unknown>>((resolve, reject) => {
        let buffer = '';
        proc.stdout!.on('data', (chunk: Buffer) => {
          buffer += chunk.toString();
          let nl;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, nl);
            buffer = buffer.slice(nl + 1);
            try {
              const j = JSON.parse(line) as Record<string, unknown>;
              lines.push(j);
              if (j['msg'] === 'ready') resolve(j);
            } catch {
              // not a log line
            }
          }
        });
        void exited.then((code) => reject(new Error(`apfsds handler ended (${code}) before ready: ${stderr}`)));
      }),
      60_000,
      'ready line',
    );
    try {
      const line = await ready;
      assert.equal(line['role'], 'handler');
      assert.equal(typeof line['port'], 'number');
      assert.equal(typeof line['adminPort'], 'number');
      const client = await connectClient(line['port'] as number, user);
      assert.equal(client.session.isClosed, false);
      client.close();
      const admin = `http://127.0.0.1:${line['adminPort'] as number}`;
      assert.equal((await fetch(`${admin}/health`)).status, 200);
      // A handler without raft.peers is a Raft cluster of one that led and seeded before "ready".
      assert.equal((await fetch(`${admin}/ready`)).status, 200);
      const cluster = (await (await fetch(`${admin}/admin/v1/cluster`, { headers: { authorization: 'Bearer cli-test-admin-token-0001' } })).json()) as {
        cluster: { leader: string; members: Array<{ id: string }> };
      };
      assert.equal(cluster.cluster.leader, 'h-cli');
      assert.deepEqual(cluster.cluster.members.map((m) => m.id), ['h-cli']);
      assert.ok(!JSON.stringify(lines).includes(CLUSTER.privateText), 'the key never reaches the log');
      proc.kill('SIGTERM');
      const code = await within(exited, 20_000, 'exit after SIGTERM');
      // Deno's child_process reports the signal it sent rather than the child's exit status.
      assert.ok(code === 0 || code === 'SIGTERM', `exit code ${String(code)}: ${stderr}`);
    } finally {
      proc.kill('SIGKILL');
    }
  });
});

import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeBase64Url } from '../../shared/config/base64url.ts';
import { runtime } from '../../shared/runtime/detect.ts';
import { LINK_PATH, dialLink, echoServer, makeKeys, openTcp, readAll, within } from './harness.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** Starts `apfsds exit ...` on the runtime running this test and collects its JSON log lines. */
function startCli(args: string[]): { proc: ChildProcess; lines: Record<string, unknown>[]; waitFor(msg: string): Promise<Record<string, unknown>>; exited: Promise<number | null> } {
  const cli = join(root, 'cli', 'main.ts');
  const argv = runtime === 'deno' ? ['run', '-A', cli, 'exit', ...args] : ['--import', 'tsx', cli, 'exit', ...args];
  const env: Record<string, string | undefined> = { ...process.env, APFSDS_LOG_LEVEL: 'info' };
  delete env['APFSDS_CONFIG'];
  delete env['APFSDS_EGRESS_ALLOW'];
  const proc = spawn(process.execPath, argv, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env });
  const lines: Record<string, unknown>[] = [];
  const watchers = new Set<() => void>();
  let buffer = '';
  proc.stdout!.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log line
      }
      for (const w of watchers) w();
    }
  });
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    proc,
    lines,
    exited,
    waitFor(msg) {
      return within(
        new Promise((resolve, reject) => {
          const check = (): void => {
            const hit = lines.find((l) => l['msg'] === msg);
            if (hit !== undefined) {
              watchers.delete(check);
              resolve(hit);
            }
          };
          watchers.add(check);
          void exited.then((code) => reject(new Error(`apfsds exit ended (${code}) before "${msg}": ${stderr}`)));
          check();
        }),
        60_000,
        `log line "${msg}"`,
      );
    },
  };
}

describe('apfsds exit (command line)', { skip: process.platform === 'win32' ? 'POSIX signals only' : false }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'apfsds-exit-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('starts from a config file, logs ready with the bound port, serves a link and stops on SIGTERM', async () => {
    const keys = makeKeys();
    writeFileSync(join(dir, 'exit.key'), `${encodeBase64Url(keys.exitPrivate)}\n`, { mode: 0o600 });
    const config = [
      'id: exit-cli',
      'region: eu',
      'key:',
      '  privateKey: { file: exit.key }',
      `clusterPublicKey: ${encodeBase64Url(keys.clusterPublic)}`,
      'listen:',
      '  host: 127.0.0.1',
      '  port: 0',
      `  path: ${LINK_PATH}`,
      'status: { host: 127.0.0.1, port: 0 }',
      'log: { format: json }',
    ].join('\n');
    writeFileSync(join(dir, 'exit.yaml'), config);
    const echo = await echoServer();
    const cli = startCli(['--config', join(dir, 'exit.yaml'), '--allow-egress', '127.0.0.1/32']);
    try {
      const ready = await cli.waitFor('ready');
      assert.equal(ready['role'], 'exit');
      assert.equal(ready['node'], 'exit-cli');
      assert.equal(ready['crypto'], 'libsodium + node:crypto');
      const port = ready['port'];
      assert.equal(typeof port, 'number');
      // --allow-egress opened loopback: a stream to the echo server works.
      const link = await dialLink(port as number, keys);
      const stream = openTcp(link, '127.0.0.1', echo.port);
      await stream.write(new TextEncoder().encode('via the cli'));
      stream.end();
      assert.equal((await within(readAll(stream), 10_000, 'echo')).toString(), 'via the cli');
      link.close();
      cli.proc.kill('SIGTERM');
      await cli.waitFor('stopped');
      const code = await within(cli.exited, 20_000, 'process exit');
      // Deno's child_process reports the signal it sent rather than the child's own status.
      if (runtime === 'node') assert.equal(code, 0);
      assert.equal(JSON.stringify(cli.lines).includes(encodeBase64Url(keys.exitPrivate)), false);
    } finally {
      cli.proc.kill('SIGKILL');
      await echo.close();
    }
  });

  it('fails with the config error and exit code 1 for a bad --allow-egress', async () => {
    const keys = makeKeys();
    writeFileSync(
      join(dir, 'bad.yaml'),
      `id: e\nregion: eu\nkey: { privateKey: ${encodeBase64Url(keys.exitPrivate)} }\nclusterPublicKey: ${encodeBase64Url(keys.clusterPublic)}\nhandlers: [ws://127.0.0.1:9/x]\n`,
    );
    const cli = startCli(['--config', join(dir, 'bad.yaml'), '--allow-egress', '10.0.0.1/8']);
    try {
      assert.equal(await within(cli.exited, 60_000, 'process exit'), 1);
    } finally {
      cli.proc.kill('SIGKILL');
    }
  });
});

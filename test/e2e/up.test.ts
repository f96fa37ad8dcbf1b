/**
 * The one-command run (`npm start -- --allow-egress 127.0.0.0/8`, i.e. `apfsds up`): handler,
 * exit and local proxy in one process, on Node as `npm start` runs it (`npm run build`, then
 * `node dist/cli/main.js up`) and on Deno from the sources, with a fresh data dir and free
 * ports (port 0). It prints the proxy address and a curl example, serves curl through
 * socks5h:// to a local origin, and a second run reuses the keys, token and paths it
 * generated on the first.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { READY_TIMEOUT_MS } from '../support/e2e/cluster.ts';
import { contentSha256 } from '../support/e2e/content.ts';
import { curl, describeCurl, SKIP_WITHOUT_CURL } from '../support/e2e/curl.ts';
import { startOrigin, type Origin } from '../support/e2e/origin.ts';
import { spawnRole, type RoleProcess } from '../support/e2e/role-process.ts';

/** The files of a data dir (not raft data) with their contents. */
function material(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isFile()) out.set(name, readFileSync(path, 'utf8'));
  }
  return out;
}

describe('apfsds up --allow-egress 127.0.0.0/8', { skip: SKIP_WITHOUT_CURL, timeout: 300_000 }, () => {
  let origin: Origin;
  let work: string;
  let dataDir: string;
  const procs: RoleProcess[] = [];

  before(async () => {
    origin = await startOrigin();
    work = mkdtempSync(join(tmpdir(), 'apfsds-e2e-up-'));
    dataDir = join(work, 'data');
  });

  after(async () => {
    await Promise.allSettled(procs.map((p) => p.stop()));
    await origin?.close();
    if (work !== undefined && process.env['APFSDS_E2E_KEEP'] === undefined) rmSync(work, { recursive: true, force: true });
  });

  /** Starts `apfsds up` with every port 0 (any free port); resolves with the proxy port from its ready line. */
  async function runUp(name: string): Promise<{ proc: RoleProcess; proxyPort: number }> {
    const proc = spawnRole({
      name,
      args: ['up', '--allow-egress', '127.0.0.0/8', '--data-dir', dataDir, '--proxy-port', '0', '--handler-port', '0', '--exit-port', '0', '--admin-port', '0'],
      logDir: work,
      fromBuild: true,
    });
    procs.push(proc);
    // The embedded roles log their own ready lines (with a unit field); up's own comes last.
    const ready = await proc.waitReady(READY_TIMEOUT_MS, (j) => j['role'] === 'up' && j['unit'] === undefined);
    const proxyPort = ready['port'];
    assert.ok(typeof proxyPort === 'number' && proxyPort > 0, `the ready line names the proxy port: ${JSON.stringify(ready)}`);
    return { proc, proxyPort };
  }

  async function transfer(proc: RoleProcess, proxyPort: number, seed: number): Promise<void> {
    const size = 1024 * 1024;
    const r = await curl({ proxyPort, mode: 'socks5h', url: `http://localhost:${origin.port}/bytes/${size}?seed=${seed}`, maxTimeSec: 60 });
    assert.equal(r.exitCode, 0, `${describeCurl(r)}\n${proc.tail()}`);
    assert.equal(r.sha256, contentSha256(size, seed));
  }

  it('the first run generates its keys, prints the proxy address and a curl example, and serves socks5h', async () => {
    const { proc, proxyPort } = await runUp('up-first');
    try {
      const example = await proc.waitForLine((l) => /curl -x socks5h:\/\//.test(l.text), 10_000, 'a curl example');
      assert.ok(example.text.includes(`127.0.0.1:${proxyPort}`), `the example names the proxy address\n${proc.tail()}`);
      await transfer(proc, proxyPort, 21);
    } finally {
      const code = await proc.stop(10_000);
      // Deno's child_process reports the signal it sent rather than the child's exit status.
      assert.ok(code === 0 || code === 'SIGTERM', `stops cleanly on SIGTERM (got ${code})\n${proc.tail()}`);
    }
    assert.ok(material(dataDir).size >= 3, 'the data dir holds the generated material');
  });

  it('a second run with the same data dir reuses the material and serves again', async () => {
    const first = material(dataDir);
    const { proc, proxyPort } = await runUp('up-second');
    try {
      assert.ok(proc.lines.some((l) => /reusing/i.test(l.text)), `says it reuses the material\n${proc.tail()}`);
      await transfer(proc, proxyPort, 22);
    } finally {
      await proc.stop(10_000);
    }
    assert.deepEqual(material(dataDir), first, 'keys, token and paths are unchanged');
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runtime } from '../../shared/runtime/detect.ts';
import { MATERIAL_FILES } from '../../cli/commands/up.ts';
import { curl, startOrigin } from '../client/helpers.ts';
import { spawnCli, type CliChild } from './spawn.ts';

const PORTS = ['--proxy-port', '0', '--handler-port', '0', '--exit-port', '0', '--admin-port', '0'];

function upReady(child: CliChild): Promise<Record<string, unknown>> {
  return child.waitFor((l) => l['msg'] === 'ready' && l['role'] === 'up' && l['unit'] === undefined);
}

function material(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.values(MATERIAL_FILES)) out[name] = readFileSync(join(dir, name), 'utf8');
  return out;
}

test('apfsds up generates its keys once, proxies curl to a local page, stops on SIGTERM, and reuses the keys', async () => {
  const origin = await startOrigin();
  const dataDir = join(mkdtempSync(join(tmpdir(), 'apfsds-up-')), 'data');
  let child: CliChild | undefined;
  try {
    child = spawnCli(['up', '--data-dir', dataDir, '--allow-egress', '127.0.0.0/8', ...PORTS], { APFSDS_CONFIG: '' });
    const ready = await upReady(child);
    const port = ready['port'] as number;
    assert.ok(port > 0);
    await child.waitStderr(new RegExp(`curl -x socks5h://127\\.0\\.0\\.1:${port} https://example\\.com`));
    assert.ok(child.lines.some((l) => l['msg'] === 'generated keys, token and paths'));
    // The embedded roles' lines name the role (unit) and their subsystems (component) once each.
    const links = child.rawLines.find((l) => l.includes('"component":"links"'));
    assert.ok(links !== undefined && links.includes('"unit":"handler"'), links);
    for (const line of child.rawLines) {
      for (const key of ['role', 'node', 'unit', 'component']) {
        assert.ok((line.match(new RegExp(`"${key}":`, 'g')) ?? []).length <= 1, `"${key}" twice in ${line}`);
      }
    }

    const viaSocks = await curl(['-x', `socks5h://127.0.0.1:${port}`, `http://127.0.0.1:${origin.port}/through-up`]);
    assert.equal(viaSocks.code, 0, viaSocks.stderr);
    assert.match(viaSocks.stdout, /^hello GET \/through-up /);
    const viaHttp = await curl(['-x', `http://127.0.0.1:${port}`, `http://localhost:${origin.port}/http-proxy`]);
    assert.equal(viaHttp.code, 0, viaHttp.stderr);
    assert.match(viaHttp.stdout, /^hello GET \/http-proxy /);

    assert.equal(statSync(dataDir).mode & 0o777, 0o700);
    for (const name of Object.values(MATERIAL_FILES)) assert.equal(statSync(join(dataDir, name)).mode & 0o777, 0o600, name);
    const first = material(dataDir);
    const code = await child.stop();
    if (runtime === 'node') assert.equal(code, 0, child.stderr());
    assert.ok(child.lines.some((l) => l['msg'] === 'stopped'));

    child = spawnCli(['up', '--data-dir', dataDir, '--allow-egress', '127.0.0.0/8', ...PORTS], { APFSDS_CONFIG: '' });
    const again = await upReady(child);
    assert.ok(child.lines.some((l) => l['msg'] === 'reusing keys, token and paths'));
    assert.deepEqual(material(dataDir), first);
    // The replicated state remembers the first run's exit URL; a new exit port must replace it.
    if (again['exitPort'] !== ready['exitPort']) {
      assert.ok(child.lines.some((l) => typeof l['msg'] === 'string' && l['msg'].startsWith('pointed the replicated exit record')));
    }
    const r = await curl(['-x', `socks5h://127.0.0.1:${again['port'] as number}`, `http://127.0.0.1:${origin.port}/second-run`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /second-run/);
    await child.stop();
  } finally {
    child?.proc.kill('SIGKILL');
    await origin.close();
    rmSync(join(dataDir, '..'), { recursive: true, force: true });
  }
});

test('apfsds up without --allow-egress refuses a loopback destination (SOCKS5 reply 0x02)', async () => {
  const origin = await startOrigin();
  const dataDir = join(mkdtempSync(join(tmpdir(), 'apfsds-up-')), 'data');
  const child = spawnCli(['up', '--data-dir', dataDir, ...PORTS], { APFSDS_CONFIG: '', APFSDS_EGRESS_ALLOW: '' });
  try {
    const ready = await upReady(child);
    const r = await curl(['-x', `socks5h://127.0.0.1:${ready['port'] as number}`, `http://127.0.0.1:${origin.port}/`]);
    assert.notEqual(r.code, 0);
    // curl 7.x words SOCKS5 reply 2 as "connection not allowed by ruleset".
    assert.match(r.stderr, /not allowed|ruleset|\(2\)/i);
    await child.stop();
  } finally {
    child.proc.kill('SIGKILL');
    await origin.close();
    rmSync(join(dataDir, '..'), { recursive: true, force: true });
  }
});

test('apfsds up refuses a bad flag value and names the field', async () => {
  const child = spawnCli(['up', '--data-dir', join(tmpdir(), 'apfsds-never-created'), '--allow-egress', 'not-a-cidr', '--proxy-port', '70000'], { APFSDS_CONFIG: '' });
  const code = await child.exited;
  assert.equal(code, 1);
  assert.match(child.stderr(), /allowEgress\[0\]/);
  assert.match(child.stderr(), /ports\.proxy/);
});

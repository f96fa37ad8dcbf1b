/**
 * deploy/systemd units: ExecStart runs an existing subcommand of the compiled build the way the
 * docs install it (and that command line runs here, with --help), the sandbox settings are there, every credential the environment points at is loaded, the
 * APFSDS_* variables are fields the role's schema accepts (checked by loading the example
 * config with the unit's environment), and `systemd-analyze verify` accepts the units when the
 * tool is installed.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type ConfigFor, type Role } from '../../shared/config/index.ts';
import { encodeKey, generateKeyPair } from '../../shared/crypto/keys.ts';
import { buildDist } from '../support/e2e/role-process.ts';
import { CLI_COMMANDS, diskIO, hasProgram, readRepo, REPO, repoPath, run } from './support.ts';

type Unit = Map<string, Map<string, string[]>>;

/** Parses a unit file: section -> key -> values in order (continuation lines joined). */
function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Map<string, string[]> | undefined;
  const lines = text.replace(/\\\n/g, ' ').split('\n');
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const head = /^\[(.+)\]$/.exec(line);
    if (head !== null) {
      section = new Map();
      unit.set(head[1]!, section);
      continue;
    }
    const eq = line.indexOf('=');
    assert.ok(section !== undefined && eq > 0, `line outside a section or without "=": ${line}`);
    const key = line.slice(0, eq).trim();
    section.set(key, [...(section.get(key) ?? []), line.slice(eq + 1).trim()]);
  }
  return unit;
}

const UNITS: { file: string; role: Role; example: string }[] = [
  { file: 'apfsds-handler.service', role: 'handler', example: 'handler-h1.yaml' },
  { file: 'apfsds-exit.service', role: 'exit', example: 'exit-us.yaml' },
  { file: 'apfsds-client.service', role: 'client', example: 'client.yaml' },
];

const INSTALL_DIR = '/opt/apfsds';

let scratch = '';
before(() => {
  scratch = mkdtempSync(join(tmpdir(), 'apfsds-systemd-'));
});
after(() => {
  rmSync(scratch, { recursive: true, force: true });
});

for (const { file, role, example } of UNITS) {
  describe(`deploy/systemd/${file}`, () => {
    const unit = parseUnit(readRepo('deploy/systemd', file));
    const service = unit.get('Service') ?? new Map<string, string[]>();
    const one = (key: string): string | undefined => service.get(key)?.at(-1);
    const envs = (service.get('Environment') ?? []).map((e) => {
      const eq = e.indexOf('=');
      return [e.slice(0, eq), e.slice(eq + 1)] as const;
    });

    it('runs `node dist/cli/main.js <role> --config FILE` of the install directory (the compiled build, no tsx)', () => {
      const argv = (one('ExecStart') ?? '').split(/\s+/);
      assert.equal(argv[0], '/usr/bin/node');
      assert.equal(argv[1], `${INSTALL_DIR}/dist/cli/main.js`);
      assert.equal(one('WorkingDirectory'), INSTALL_DIR);
      const sub = argv[2] ?? '';
      assert.ok(CLI_COMMANDS.includes(sub), `subcommand ${sub} is not in cli/commands`);
      assert.equal(sub, role);
      assert.deepEqual(argv.slice(3), ['--config', `/etc/apfsds/${role}.yaml`]);
    });

    it('its ExecStart runs here on the compiled build (install directory = this checkout, with --help)', async () => {
      buildDist();
      const argv = (one('ExecStart') ?? '').split(/\s+/).map((a) => a.replace(INSTALL_DIR, REPO.replace(/\/$/, '')));
      // /usr/bin/node may be missing here; the node on PATH stands in for it.
      const r = await run('node', [...argv.slice(1), '--help'], { cwd: REPO, ms: 60_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`Usage: apfsds ${role}`));
    });

    it('is sandboxed and restarts on failure', () => {
      assert.ok(one('DynamicUser') === 'yes' || one('User') === 'apfsds', 'DynamicUser=yes or User=apfsds');
      for (const [key, value] of [
        ['NoNewPrivileges', 'yes'],
        ['ProtectSystem', 'strict'],
        ['ProtectHome', 'yes'],
        ['PrivateTmp', 'yes'],
        ['Restart', 'on-failure'],
        ['UMask', '0077'],
      ] as const) {
        assert.equal(one(key), value, key);
      }
      // V8's JIT needs writable executable pages.
      assert.notEqual(one('MemoryDenyWriteExecute'), 'yes');
      assert.equal(unit.get('Install')?.get('WantedBy')?.[0], 'multi-user.target');
    });

    it('loads every credential its environment points at, from root-only paths under /etc/apfsds', () => {
      const loaded = new Map((service.get('LoadCredential') ?? []).map((c) => c.split(':') as [string, string]));
      assert.ok(loaded.size > 0, 'keys come in as credentials');
      for (const [, value] of envs) {
        for (const [, name] of value.matchAll(/%d\/([A-Za-z0-9._-]+)/g)) assert.ok(loaded.has(name!), `credential ${name} is not loaded`);
      }
      for (const path of loaded.values()) assert.match(path, /^\/etc\/apfsds\//);
    });

    if (role === 'handler') {
      it('keeps raft data in its StateDirectory', () => {
        assert.equal(one('StateDirectory'), 'apfsds-handler');
        assert.equal(one('StateDirectoryMode'), '0700');
        assert.ok(envs.some(([k, v]) => k === 'APFSDS_HANDLER__RAFT__DATA_DIR' && v === '%S/apfsds-handler/raft'));
        assert.equal(one('AmbientCapabilities'), 'CAP_NET_BIND_SERVICE');
      });
    }

    it(`starts from deploy/examples/${example} with the unit's environment (fields exist, credentials read)`, async () => {
      const dir = join(scratch, role);
      const creds = join(dir, 'credentials');
      const state = join(dir, 'state');
      mkdirSync(creds, { recursive: true, mode: 0o700 });
      mkdirSync(state, { recursive: true });
      const loaded = new Map((service.get('LoadCredential') ?? []).map((c) => c.split(':') as [string, string]));
      for (const name of loaded.keys()) {
        const text = name.endsWith('.key') && !name.startsWith('tls') ? encodeKey(generateKeyPair().privateKey) : 'not-read-at-load-time';
        writeFileSync(join(creds, name), `${text}\n`, { mode: 0o400 });
      }
      const env: Record<string, string> = { APFSDS_ADMIN_TOKEN: 'unit-test-admin-token-0123456789' };
      for (const [k, v] of envs) env[k] = v.replace(/%d/g, creds).replace(/%S/g, state);
      const warnings: string[] = [];
      const config = await loadConfig(role, repoPath('deploy/examples', example), diskIO(env, warnings));
      assert.deepEqual(warnings, [], 'credentials are 0400, so no loose-mode warning');
      if (role === 'handler') {
        const h = config as ConfigFor<'handler'>;
        assert.equal(h.raft.dataDir, join(state, 'apfsds-handler/raft'));
        assert.equal(h.tls?.keyFile, join(creds, 'tls.key'));
        assert.equal(h.clusterKey.privateKey.source, 'file');
      }
      if (role === 'exit') {
        const e = config as ConfigFor<'exit'>;
        assert.equal(e.key.privateKey.source, 'file');
      }
    });
  });
}

describe('systemd-analyze', () => {
  const missing = !hasProgram('systemd-analyze')
    ? 'systemd-analyze is not installed here'
    : !existsSync('/usr/bin/node')
      ? 'verify needs the ExecStart binary /usr/bin/node, which this machine does not have'
      : false;

  for (const { file } of UNITS) {
    it(`verify accepts ${file} without warnings`, { skip: missing }, async () => {
      const r = await run('systemd-analyze', ['verify', repoPath('deploy/systemd', file)], { ms: 30_000 });
      assert.equal(r.code, 0, r.stderr);
      // Unknown keys and bad values are warnings on stderr with exit code 0.
      assert.equal(r.stderr.trim(), '', r.stderr);
    });

    it(`security --offline rates ${file} exposure at most 2.5`, { skip: missing }, async (t) => {
      const r = await run('systemd-analyze', ['security', '--offline=yes', '--no-pager', repoPath('deploy/systemd', file)], { ms: 30_000 });
      const m = /Overall exposure level for \S+: ([0-9.]+)/.exec(r.stdout + r.stderr);
      if (r.code !== 0 && m === null) {
        t.skip(`this systemd has no offline security analysis: ${r.stderr.trim().split('\n')[0] ?? ''}`);
        return;
      }
      assert.ok(m !== null, r.stdout);
      assert.ok(Number(m[1]) <= 2.5, `exposure ${m[1]}`);
    });
  }
});

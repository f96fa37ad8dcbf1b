/**
 * deploy/compose: both compose files reference files that exist (or that init-secrets.sh
 * generates) and subcommands that exist; with the generated material and each service's
 * environment, every role's example config loads, and the split topology agrees with itself
 * (peers, exit URLs, keys, weights 1/1/2, paths, TLS names). Two services then run for real,
 * without containers but on the compiled build the image runs (node dist/cli/main.js): exit-eu
 * and h1 with their compose environment, linked to each other.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig, type ConfigFor, type Role } from '../../shared/config/index.ts';
import { runtime } from '../../shared/runtime/detect.ts';
import { buildDist } from '../support/e2e/role-process.ts';
import { CLI_COMMANDS, diskIO, hasProgram, interpolate, parseYaml, readDotenv, readRepo, REPO, repoPath, run } from './support.ts';

type Service = {
  build?: { context: string; dockerfile: string };
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  secrets?: string[];
  volumes?: string[];
  ports?: string[];
  profiles?: string[];
  user?: string;
};
type Compose = { services: Record<string, Service>; secrets?: Record<string, { file: string }>; volumes?: Record<string, unknown> };

const COMPOSE_DIR = repoPath('deploy/compose');
const FILES = ['docker-compose.all-in-one.yaml', 'docker-compose.split.yaml'] as const;
const composeOf = (file: string): Compose => parseYaml(readRepo('deploy/compose', file), file) as Compose;
const isApfsds = (s: Service): boolean => s.image === 'apfsds:local';
/** The arguments node gets from the image's ENTRYPOINT (the compiled CLI), run from the repository. */
const ENTRY = (JSON.parse(/^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(readRepo('deploy/docker/Dockerfile'))?.[1] ?? '[]') as string[]).slice(1);

const NEEDS = !hasProgram('openssl') ? 'openssl is needed by init-secrets.sh' : !hasProgram('bash') ? 'bash is needed by init-secrets.sh' : false;

/** Where generated material lives for this run (init-secrets.sh OUT_DIR). */
let out = '';
let dotenv: Record<string, string> = {};

before(async () => {
  // init-secrets.sh and the services below run the compiled CLI, as the image does.
  buildDist();
  if (NEEDS !== false) return;
  out = mkdtempSync(join(tmpdir(), 'apfsds-compose-'));
  const r = await run('bash', [join(COMPOSE_DIR, 'init-secrets.sh'), out], { ms: 120_000 });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  dotenv = readDotenv(join(out, '.env'));
});
after(() => {
  if (out !== '') rmSync(out, { recursive: true, force: true });
});

/** A bind-mount source on the host: generated ones (./secrets/...) resolve into the run's OUT_DIR. */
function hostPath(src: string): string {
  const rel = src.replace(/^\.\//, '');
  if (rel === 'secrets' || rel.startsWith('secrets/') || rel === '.env') return join(out, rel);
  return resolve(COMPOSE_DIR, src);
}

/** Container path -> host path, from the service's bind mounts and secrets. */
function pathMap(compose: Compose, service: Service): Map<string, string> {
  const map = new Map<string, string>();
  for (const v of service.volumes ?? []) {
    const [src, dst] = v.split(':');
    if (src !== undefined && dst !== undefined && /^[./]/.test(src)) map.set(dst, hostPath(src));
  }
  for (const name of service.secrets ?? []) map.set(`/run/secrets/${name}`, hostPath(compose.secrets![name]!.file));
  return map;
}

/** The service's environment after interpolation, with container paths made host paths. */
function serviceEnv(compose: Compose, service: Service, extra: Record<string, string> = {}): Record<string, string> {
  const map = pathMap(compose, service);
  const env: Record<string, string> = {};
  for (const [k, raw] of Object.entries(service.environment ?? {})) {
    let v = interpolate(String(raw), dotenv);
    for (const [container, host] of map) v = v.split(container).join(host);
    env[k] = v;
  }
  return { ...env, ...extra };
}

/** Loads the config a service's command names, as the container would, on this machine. */
async function serviceConfig<R extends Role>(compose: Compose, name: string, extraEnv: Record<string, string> = {}): Promise<{ config: ConfigFor<R>; warnings: string[] }> {
  const service = compose.services[name]!;
  const argv = service.command!;
  const configArg = argv[argv.indexOf('--config') + 1]!;
  const host = pathMap(compose, service).get(configArg);
  assert.ok(host !== undefined, `${name}: --config ${configArg} is not mounted`);
  const warnings: string[] = [];
  const config = await loadConfig(argv[0] as R, host, diskIO(serviceEnv(compose, service, extraEnv), warnings));
  return { config: config as ConfigFor<R>, warnings };
}

for (const file of FILES) {
  describe(`deploy/compose/${file}`, () => {
    const compose = composeOf(file);
    const services = Object.entries(compose.services);

    it('builds the image from the repository root with deploy/docker/Dockerfile', () => {
      for (const [name, s] of services.filter(([, s]) => s.build !== undefined)) {
        const context = resolve(COMPOSE_DIR, s.build!.context);
        assert.equal(context, resolve(REPO), `${name}: build context`);
        assert.ok(existsSync(join(context, s.build!.dockerfile)), `${name}: ${s.build!.dockerfile}`);
        assert.equal(s.image, 'apfsds:local');
      }
    });

    it('runs subcommands that exist, each with a mounted config file', () => {
      const apfsds = services.filter(([, s]) => isApfsds(s));
      assert.ok(apfsds.length > 0);
      for (const [name, s] of apfsds) {
        const argv = s.command ?? [];
        assert.ok(CLI_COMMANDS.includes(argv[0] ?? ''), `${name}: ${argv[0]} is not a subcommand`);
        const config = argv[argv.indexOf('--config') + 1];
        assert.ok(argv.includes('--config') && config !== undefined, `${name}: --config FILE`);
        assert.ok((s.volumes ?? []).some((v) => v.split(':')[1] === config), `${name}: ${config} is not mounted`);
      }
    });

    it('mounts repository files that exist, declared named volumes and declared secrets', () => {
      for (const [name, s] of services) {
        for (const v of s.volumes ?? []) {
          const [src] = v.split(':');
          if (src === undefined) continue;
          if (/^[./]/.test(src)) {
            const rel = src.replace(/^\.\//, '');
            if (rel.startsWith('secrets/')) continue; // generated, checked below
            assert.ok(existsSync(resolve(COMPOSE_DIR, src)), `${name}: ${src} does not exist`);
            assert.ok(resolve(COMPOSE_DIR, src).startsWith(resolve(REPO)), `${name}: ${src} is outside the repository`);
          } else {
            assert.ok(compose.volumes !== undefined && src in compose.volumes, `${name}: volume ${src} is not declared`);
          }
        }
        for (const secret of s.secrets ?? []) assert.ok(compose.secrets?.[secret] !== undefined, `${name}: secret ${secret} is not declared`);
      }
    });

    it('publishes the proxy and admin ports on loopback only', () => {
      for (const [name, s] of services) {
        for (const p of s.ports ?? []) {
          // Container ports of the unauthenticated proxy, admin APIs, Prometheus and Grafana.
          const container = p.split(':').at(-1) ?? '';
          if (['1080', '9090', '3000'].includes(container)) assert.ok(p.startsWith('127.0.0.1:'), `${name}: ${p} should be bound to 127.0.0.1`);
        }
      }
    });

    it('generated material: init-secrets.sh makes every secret and mount, and .env fills every variable', { skip: NEEDS }, () => {
      for (const [name, s] of Object.entries(compose.secrets ?? {})) {
        assert.match(s.file, /^\.\/secrets\//, `${name}: secrets come from init-secrets.sh`);
        const p = hostPath(s.file);
        assert.ok(existsSync(p), `${name}: ${s.file} is not generated`);
        if (/\.(key|pub)$/.test(p)) assert.equal(statSync(p).mode & 0o077, 0, `${s.file} is readable by others`);
      }
      for (const [, s] of services) {
        for (const v of s.volumes ?? []) {
          const [src] = v.split(':');
          if (src?.startsWith('./secrets/')) assert.ok(existsSync(hostPath(src)), `${src} is not generated`);
        }
      }
      // Every ${VAR:?...} resolves with the generated .env.
      assert.doesNotThrow(() => interpolate(readRepo('deploy/compose', file), dotenv));
    });
  });
}

describe('all-in-one service', () => {
  const compose = composeOf('docker-compose.all-in-one.yaml');
  const service = compose.services['apfsds']!;

  it('loads the example up config with its environment (no loopback egress in a container)', async () => {
    const { config } = await serviceConfig<'up'>(compose, 'apfsds');
    assert.deepEqual(config.allowEgress, []);
  });

  it('its command line parses (run with --help, as the container would)', async () => {
    const argv = service.command!.map((a) => (a === '/etc/apfsds/up.yaml' ? repoPath('deploy/examples/all-in-one.yaml') : a));
    const r = await run('node', [...ENTRY, ...argv, '--help'], { cwd: REPO });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Usage: apfsds up/);
  });
});

describe('split topology', { skip: NEEDS }, () => {
  const compose = composeOf('docker-compose.split.yaml');
  const byRole = (role: string): string[] =>
    Object.entries(compose.services)
      .filter(([, s]) => s.command?.[0] === role)
      .map(([n]) => n);

  it('has handlers h1-h3, exits us/eu/asia, a client profile, prometheus and grafana', () => {
    assert.deepEqual(byRole('handler'), ['h1', 'h2', 'h3']);
    assert.deepEqual(byRole('exit'), ['exit-us', 'exit-eu', 'exit-asia']);
    assert.deepEqual(byRole('client'), ['client']);
    assert.deepEqual(compose.services['client']!.profiles, ['client']);
    assert.ok(compose.services['prometheus'] !== undefined && compose.services['grafana'] !== undefined);
  });

  it('every role config loads with the generated keys and no warnings', async () => {
    for (const name of [...byRole('handler'), ...byRole('exit'), ...byRole('client')]) {
      const { warnings } = await serviceConfig(compose, name);
      assert.deepEqual(warnings, [], name);
    }
  });

  it('handlers form one raft cluster over the compose names, sharing key, path and exits', async () => {
    const handlers = await Promise.all(byRole('handler').map(async (n) => [n, (await serviceConfig<'handler'>(compose, n)).config] as const));
    const [, first] = handlers[0]!;
    for (const [name, h] of handlers) {
      assert.equal(h.nodeId, name);
      assert.deepEqual(h.raft.peers.map((p) => p.id), ['h1', 'h2', 'h3']);
      for (const p of h.raft.peers) {
        const url = new URL(p.url);
        assert.equal(url.hostname, p.id);
        assert.equal(Number(url.port), h.raft.listen.port);
      }
      assert.equal(h.clusterKey.publicKey.toBase64Url(), readFileSync(join(out, 'secrets/cluster.pub'), 'utf8').trim());
      assert.equal(h.path, first.path);
      assert.equal(h.links.path, first.links.path);
      assert.equal(h.admin.host, '0.0.0.0');
      assert.equal(h.admin.token?.value, dotenv['APFSDS_ADMIN_TOKEN']);
      assert.equal(h.decoy.mode, 'builtin');
      assert.deepEqual(h.exits.map((e) => [e.id, e.region, e.weight, e.mode]), [
        ['exit-us', 'us', 1, 'dial'],
        ['exit-eu', 'eu', 1, 'dial'],
        ['exit-asia', 'asia', 2, 'reverse'],
      ]);
    }
  });

  it('handlers dial the dial-mode exits at their service, port and path, and know every exit key', async () => {
    const h1 = (await serviceConfig<'handler'>(compose, 'h1')).config;
    for (const name of byRole('exit')) {
      const exit = (await serviceConfig<'exit'>(compose, name)).config;
      const entry = h1.exits.find((e) => e.id === exit.id);
      assert.ok(entry !== undefined, `${exit.id} is not registered`);
      assert.equal(entry.publicKey.toBase64Url(), exit.key.publicKey.toBase64Url(), `${exit.id} key`);
      assert.equal(entry.region, exit.region);
      assert.equal(exit.clusterPublicKey.toBase64Url(), h1.clusterKey.publicKey.toBase64Url());
      assert.equal(exit.status.host, '0.0.0.0');
      assert.equal(exit.status.port, 9091);
      if (entry.mode === 'dial') {
        const url = new URL(entry.url!);
        assert.equal(url.hostname, name);
        assert.equal(Number(url.port), exit.listen?.port);
        assert.equal(url.pathname, exit.listen?.path);
        assert.equal(exit.listen?.tls, undefined, 'links on the private compose network are ws://');
      } else {
        assert.equal(exit.listen, undefined);
        assert.deepEqual(exit.handlers.map((u) => new URL(u).hostname), ['h1', 'h2', 'h3']);
        for (const u of exit.handlers) {
          const url = new URL(u);
          assert.equal(url.protocol, 'wss:');
          assert.equal(Number(url.port || 443), h1.listen.port);
          assert.equal(url.pathname, h1.links.path);
        }
      }
    }
  });

  it('the client reaches the handlers as user alice over TLS it can verify', async () => {
    const h1 = (await serviceConfig<'handler'>(compose, 'h1')).config;
    const client = (await serviceConfig<'client'>(compose, 'client')).config;
    assert.deepEqual(client.handlers.map((u) => new URL(u).hostname), ['h1', 'h2', 'h3']);
    for (const u of client.handlers) assert.equal(new URL(u).pathname, h1.path);
    const alice = h1.users.find((u) => u.id === 'alice');
    assert.equal(alice?.publicKey.toBase64Url(), client.key.publicKey.toBase64Url());
    assert.equal(client.clusterPublicKey.toBase64Url(), h1.clusterKey.publicKey.toBase64Url());
    assert.equal(client.listen.host, '0.0.0.0');
    assert.equal(client.status.enabled, true);
    assert.equal(client.tls.caFile, join(out, 'secrets/tls/ca.pem'));
    for (const host of ['h1', 'h2', 'h3']) {
      const r = await run('openssl', ['verify', '-CAfile', join(out, 'secrets/tls/ca.pem'), '-verify_hostname', host, join(out, 'secrets/tls/fullchain.pem')]);
      assert.equal(r.code, 0, `certificate for ${host}: ${r.stdout}${r.stderr}`);
    }
  });

  it('the image health probe finds each service on its admin or status port', async () => {
    for (const name of [...byRole('handler'), ...byRole('exit'), ...byRole('client')]) {
      const s = compose.services[name]!;
      const { config } = await serviceConfig(compose, name);
      const role = s.command![0]!;
      const c = config as { admin?: { port: number }; status?: { port: number; enabled: boolean } };
      const port = role === 'handler' ? c.admin?.port : c.status?.port;
      const expected = { handler: 9090, exit: 9091, client: 9092 }[role];
      assert.equal(port, expected, `${name}: the probe asks 127.0.0.1:${expected}`);
      if (role !== 'handler') assert.equal(c.status?.enabled, true, `${name}: status listener`);
    }
  });
});

/** A node child running `apfsds ...` (the compiled CLI) with JSON logs. */
type Proc = { child: ChildProcess; lines: Record<string, unknown>[]; stderr: () => string; exited: Promise<number | null> };

function start(argv: string[], env: Record<string, string>): Proc {
  const child = spawn('node', [...ENTRY, ...argv], {
    cwd: REPO,
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', NO_COLOR: '1', APFSDS_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let pending = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => {
    pending += c.toString();
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a JSON log line
      }
    }
  });
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  return { child, lines, stderr: () => err, exited };
}

async function waitLine(p: Proc, match: (l: Record<string, unknown>) => boolean, what: string, ms = 60_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + ms;
  let exitedEarly = false;
  void p.exited.then(() => (exitedEarly = true));
  for (let i = 0; Date.now() < deadline && i < 6000; i++) {
    const found = p.lines.find(match);
    if (found !== undefined) return found;
    if (exitedEarly) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no "${what}" line:\n${p.stderr()}\n${p.lines.map((l) => JSON.stringify(l)).join('\n')}`);
}

async function stopProc(p: Proc): Promise<number | null> {
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 15_000);
  try {
    return await p.exited;
  } finally {
    clearTimeout(timer);
  }
}

describe('split services run without containers', { skip: NEEDS }, () => {
  it('exit-eu and h1 start from their compose environment, link, report healthy and stop on SIGTERM', async () => {
    const compose = composeOf('docker-compose.split.yaml');
    const eu = compose.services['exit-eu']!;
    const h1 = compose.services['h1']!;
    const euConfig = pathMap(compose, eu).get('/etc/apfsds/exit.yaml')!;
    const h1Config = pathMap(compose, h1).get('/etc/apfsds/handler.yaml')!;
    const listen = JSON.parse(serviceEnv(compose, eu)['APFSDS_EXIT__LISTEN']!) as { path: string };
    // Only ports change: 0 = any free port, so the test never collides with this machine's.
    const exit = start(['exit', '--config', euConfig], {
      ...serviceEnv(compose, eu, {
        APFSDS_EXIT__LISTEN: JSON.stringify({ ...listen, host: '127.0.0.1', port: 0 }),
        APFSDS_EXIT__STATUS__HOST: '127.0.0.1',
        APFSDS_EXIT__STATUS__PORT: '0',
      }),
    });
    let handler: Proc | undefined;
    try {
      const ready = await waitLine(exit, (l) => l['msg'] === 'ready', 'exit ready');
      const linkPort = ready['port'] as number;
      const statusPort = ready['statusPort'] as number;
      // The handler's TLS files are bind mounts at the paths its config names; point at their host copies.
      const mounts = pathMap(compose, h1);
      handler = start(['handler', '--config', h1Config], {
        ...serviceEnv(compose, h1, {
          APFSDS_HANDLER__LISTEN__HOST: '127.0.0.1',
          APFSDS_HANDLER__LISTEN__PORT: '0',
          APFSDS_HANDLER__ADMIN__HOST: '127.0.0.1',
          APFSDS_HANDLER__ADMIN__PORT: '0',
          APFSDS_HANDLER__RAFT__LISTEN__PORT: '0',
          // h2 and h3 are not started: h1 alone is a Raft cluster of one, so it leads and seeds
          // the exits from its config (with absent peers it would wait for a quorum).
          APFSDS_HANDLER__RAFT__PEERS: '[]',
          APFSDS_HANDLER__RAFT__DATA_DIR: join(out, 'h1-raft'),
          APFSDS_HANDLER__TLS__CERT_FILE: mounts.get('/etc/apfsds/tls/fullchain.pem')!,
          APFSDS_HANDLER__TLS__KEY_FILE: mounts.get('/etc/apfsds/tls/privkey.pem')!,
          APFSDS_HANDLER__EXITS__0__STATE: 'disabled',
          APFSDS_HANDLER__EXITS__1__URL: `ws://127.0.0.1:${linkPort}${listen.path}`,
        }),
      });
      const hReady = await waitLine(handler, (l) => l['msg'] === 'ready', 'handler ready');
      const adminPort = hReady['adminPort'] as number;
      await waitLine(exit, (l) => l['msg'] === 'link up', 'exit link up');
      const probe = repoPath('deploy/docker/healthcheck.mjs');
      const hHealth = await run('node', [probe], { env: { APFSDS_HEALTH_URL: `http://127.0.0.1:${adminPort}/health` } });
      assert.equal(hHealth.code, 0, hHealth.stdout);
      const eHealth = await run('node', [probe], { env: { APFSDS_HEALTH_URL: `http://127.0.0.1:${statusPort}/ready` } });
      assert.equal(eHealth.code, 0, `exit /ready with a handler link: ${eHealth.stdout}`);
      const metrics = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
      assert.match(metrics, /apfsds_handler_exit_up\{exit="exit-eu"\} 1/);
      for (const p of [handler, exit]) {
        const code = await stopProc(p);
        assert.ok(p.lines.some((l) => l['msg'] === 'stopped'), `clean shutdown on SIGTERM:\n${p.stderr()}`);
        // Deno's child_process reports a child it signalled as killed (code null) even when the
        // child handled the signal and exited 0, so the code is checked on Node only.
        if (runtime === 'node') assert.equal(code, 0, p.stderr());
      }
      handler = undefined;
    } finally {
      if (handler !== undefined) await stopProc(handler);
      if (exit.child.exitCode === null) await stopProc(exit);
    }
  });
});

/**
 * deploy/docker: the Dockerfile builds what the container runs (checked without Docker): its
 * stages (production dependencies, the compiled build, the runtime), the non-root user, the
 * ENTRYPOINT file (dist/cli/main.js, which the build stage emits) and CMD subcommand (and the
 * CMD runs here on the compiled build, with --help), the sources the build copies, the modules
 * the compiled files import, the ignore file, the exposed default ports and the health probe
 * script.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, relative } from 'node:path';
import { validateConfig } from '../../shared/config/index.ts';
import { encodeKey, generateKeyPair } from '../../shared/crypto/keys.ts';
import { buildDist } from '../support/e2e/role-process.ts';
import { CLI_COMMANDS, listFiles, readRepo, REPO, repoPath, run } from './support.ts';

type Instruction = { op: string; args: string; stage: number };

/** Dockerfile instructions with continuation lines joined and comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let stage = -1;
  let pending = '';
  for (const raw of text.split('\n')) {
    if (/^\s*#/.test(raw) && pending === '') continue;
    if (/^\s*#/.test(raw)) continue;
    const line = raw.replace(/\s+$/, '');
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    if (full === '') continue;
    const m = /^([A-Za-z]+)\s+(.*)$/s.exec(full);
    assert.ok(m !== null, `not an instruction: ${full}`);
    const op = m[1]!.toUpperCase();
    if (op === 'FROM') stage++;
    out.push({ op, args: m[2]!.trim(), stage });
  }
  return out;
}

const dockerfile = parseDockerfile(readRepo('deploy/docker/Dockerfile'));
const pkg = JSON.parse(readRepo('package.json')) as {
  type?: string;
  scripts: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
};
const buildConfig = JSON.parse(readRepo('tsconfig.build.json')) as { extends: string; compilerOptions: { outDir: string }; include: string[] };
const finalStage = Math.max(...dockerfile.map((i) => i.stage));
const inStage = (stage: number, op: string): Instruction[] => dockerfile.filter((i) => i.op === op && i.stage === stage);
const inFinal = (op: string): Instruction[] => inStage(finalStage, op);
const execForm = (args: string): string[] => JSON.parse(args) as string[];
/** The index of the stage named `name` (FROM ... AS name). */
const stageNamed = (name: string): number => dockerfile.find((i) => i.op === 'FROM' && i.args.endsWith(` AS ${name}`))?.stage ?? -1;

/** COPY sources from the build context (not --from=stage), as repository paths; optionally of one stage. */
function contextCopies(stage?: number): { src: string; dest: string }[] {
  return dockerfile
    .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from') && (stage === undefined || i.stage === stage))
    .flatMap((i) => {
      const parts = i.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      const dest = parts.pop()!;
      return parts.map((src) => ({ src, dest }));
    });
}

/** `COPY --from=<stage> <src> <dest>` lines of the runtime stage, as { from, src, dest }. */
function stageCopies(): { from: string; src: string; dest: string }[] {
  return inFinal('COPY')
    .map((i) => /^--from=(\S+)\s+(\S+)\s+(\S+)$/.exec(i.args))
    .filter((m) => m !== null)
    .map((m) => ({ from: m[1]!, src: m[2]!, dest: m[3]! }));
}

/** The package a bare module specifier names (`@scope/name` or `name`). */
const packageOf = (spec: string): string => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);

/** .dockerignore semantics (Go filepath.Match plus "**"), last matching line wins. */
function ignored(path: string, patterns: string[]): boolean {
  let out = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const pattern = normalize((negate ? raw.slice(1) : raw).replace(/^\/+/, '')).replace(/\/+$/, '');
    const re = new RegExp(
      `^${pattern
        .split('**')
        .map((part) => part.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]'))
        .join('.*')
        .replace(/\.\*\//g, '(?:.*/)?')}(?:/.*)?$`,
    );
    if (re.test(path)) out = !negate;
  }
  return out;
}

describe('deploy/docker/Dockerfile', () => {
  // The ENTRYPOINT runs the compiled build: compile it here as the build stage does.
  before(() => buildDist());

  it('is multi-stage on node:20-bookworm-slim: deps, build, runtime', () => {
    const arg = dockerfile.find((i) => i.op === 'ARG' && i.args.startsWith('NODE_IMAGE='));
    assert.equal(arg?.args, 'NODE_IMAGE=node:20-bookworm-slim');
    const froms = dockerfile.filter((i) => i.op === 'FROM');
    for (const f of froms) assert.match(f.args, /^\$\{NODE_IMAGE\} AS [a-z]+$/);
    assert.deepEqual(froms.map((f) => f.args.split(' AS ')[1]), ['deps', 'build', 'runtime']);
  });

  it('ships production dependencies only: the runtime node_modules come from `npm ci --omit=dev`, and tsx is a development dependency', () => {
    const deps = stageNamed('deps');
    assert.ok(inStage(deps, 'RUN').some((i) => /\bnpm ci --omit=dev\b/.test(i.args)));
    assert.deepEqual(contextCopies(deps).map((c) => c.src), ['package.json', 'package-lock.json'], 'the install layer depends on the manifests only');
    assert.ok(stageCopies().some((c) => c.from === 'deps' && c.src === '/app/node_modules' && c.dest === './node_modules'));
    for (const dev of ['tsx', 'typescript', 'deno']) {
      assert.ok(!(dev in pkg.dependencies) && dev in pkg.devDependencies, `${dev} is a development dependency`);
    }
  });

  it("keeps only its own platform's libsodium addon, which still loads", () => {
    const prune = inStage(stageNamed('deps'), 'RUN').find((i) => i.args.includes('sodium-native/prebuilds'));
    assert.ok(prune !== undefined);
    const own = `${process.platform}-${process.arch}`;
    // The same command on a copy of sodium-native, its dependencies linked beside it as npm
    // lays them out, then a plain require of the pruned package.
    const dir = mkdtempSync(join(tmpdir(), 'apfsds-prebuilds-'));
    try {
      const modules = join(dir, 'node_modules');
      mkdirSync(modules);
      for (const name of readdirSync(repoPath('node_modules'))) {
        if (name !== 'sodium-native' && !name.startsWith('.')) symlinkSync(repoPath('node_modules', name), join(modules, name));
      }
      cpSync(repoPath('node_modules', 'sodium-native'), join(modules, 'sodium-native'), { recursive: true });
      const pruned = spawnSync('sh', ['-c', prune.args], { cwd: dir, encoding: 'utf8' });
      assert.equal(pruned.status, 0, pruned.stderr);
      assert.deepEqual(readdirSync(join(modules, 'sodium-native', 'prebuilds')), [own]);
      assert.deepEqual(readdirSync(join(modules, 'sodium-native', 'prebuilds', own)), ['sodium-native.node']);
      const load = "const s = require('sodium-native'); const q = Buffer.alloc(32); s.crypto_scalarmult_base(q, Buffer.alloc(32, 1)); console.log(q.toString('hex'))";
      const loaded = spawnSync(process.execPath, ['-e', load], { cwd: dir, encoding: 'utf8' });
      assert.equal(loaded.status, 0, loaded.stderr);
      assert.match(loaded.stdout, /^[0-9a-f]{64}\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('compiles in the build stage with `npm run build` into dist/, which the runtime copies', () => {
    const build = stageNamed('build');
    const runs = inStage(build, 'RUN').map((i) => i.args);
    const install = runs.findIndex((r) => /\bnpm ci\b/.test(r) && !/--omit=dev\b/.test(r));
    const compile = runs.findIndex((r) => /\bnpm run build\b/.test(r));
    assert.ok(install >= 0 && compile > install, 'npm ci with the compiler, then npm run build');
    assert.equal(pkg.scripts['build'], 'node scripts/build.mjs');
    assert.equal(buildConfig.compilerOptions.outDir, 'dist');
    assert.ok(stageCopies().some((c) => c.from === 'build' && c.src === '/app/dist' && c.dest === './dist'));
    // The build reads both tsconfig files and every directory tsconfig.build.json includes.
    const copied = contextCopies(build).map((c) => c.src);
    for (const need of ['scripts/build.mjs', 'tsconfig.build.json', buildConfig.extends.replace(/^\.\//, ''), ...buildConfig.include]) {
      assert.ok(copied.includes(need), `the build stage does not copy ${need}`);
    }
  });

  it('runs as a fixed non-root user', () => {
    const users = inFinal('USER');
    assert.equal(users.length, 1);
    const [uid, gid] = users[0]!.args.split(':');
    assert.ok(Number(uid) >= 1000 && Number(gid) >= 1000, `USER ${users[0]!.args}`);
    const entry = dockerfile.findIndex((i) => i.op === 'ENTRYPOINT');
    assert.ok(dockerfile.indexOf(users[0]!) < entry, 'USER comes before ENTRYPOINT');
  });

  it('has the ENTRYPOINT node dist/cli/main.js, a file the build emits, with package.json beside it (ES modules)', () => {
    const entry = inFinal('ENTRYPOINT');
    assert.equal(entry.length, 1);
    assert.deepEqual(execForm(entry[0]!.args), ['node', 'dist/cli/main.js']);
    assert.equal(inFinal('WORKDIR').at(-1)?.args, '/app');
    assert.ok(existsSync(repoPath('dist/cli/main.js')), 'npm run build emits dist/cli/main.js');
    // Without "type": "module" next to dist/, node would load the compiled files as CommonJS.
    assert.equal(pkg.type, 'module');
    assert.ok(contextCopies(finalStage).some((c) => c.src === 'package.json' && c.dest === './'));
  });

  it('has a CMD whose subcommand exists', () => {
    const cmd = execForm(inFinal('CMD')[0]!.args);
    assert.ok(CLI_COMMANDS.includes(cmd[0]!), `${cmd[0]} is not in cli/commands`);
  });

  it('CMD runs here on the compiled build as it would in the container (with --help)', async () => {
    const cmd = execForm(inFinal('CMD')[0]!.args);
    const entry = execForm(inFinal('ENTRYPOINT')[0]!.args);
    const r = await run(entry[0]!, [...entry.slice(1), ...cmd, '--help'], { cwd: REPO, ms: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Usage: apfsds ${cmd[0]}`));
  });

  it('copies files that exist, and the compiled directories hold no data files the image would miss', () => {
    for (const c of contextCopies()) assert.ok(existsSync(repoPath(c.src)), `COPY ${c.src}: not in the repository`);
    // The runtime gets dist/ only: anything but TypeScript in a compiled directory (cli/bin.mjs,
    // the checkout's bin, aside) would be left behind.
    const others = buildConfig.include.flatMap((dir) => listFiles(dir)).filter((f) => !f.endsWith('.ts') && f !== 'cli/bin.mjs');
    assert.deepEqual(others, []);
  });

  it('the compiled files import only compiled files and production dependencies (no tsx)', () => {
    const runtimeDeps = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.optionalDependencies ?? {})]);
    const files = listFiles('dist').filter((f) => f.endsWith('.js'));
    assert.ok(files.some((f) => f === 'dist/cli/main.js') && files.length > 50, 'the compiled files of every role');
    const problems: string[] = [];
    for (const file of files) {
      const text = readFileSync(repoPath(file), 'utf8');
      const specs = [
        ...[...text.matchAll(/^\s*(?:import|export)\s+(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)].map((m) => m[1]!),
        ...[...text.matchAll(/\b(?:import|require)\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1]!),
      ];
      for (const spec of specs) {
        if (spec.startsWith('node:')) continue;
        if (spec.startsWith('.')) {
          const target = relative(REPO, join(dirname(repoPath(file)), spec));
          if (!target.startsWith('dist/') || !existsSync(repoPath(target))) problems.push(`${file} imports ${spec}, which the build does not emit`);
          continue;
        }
        if (!runtimeDeps.has(packageOf(spec))) problems.push(`${file} imports ${spec}: ${packageOf(spec)} is not a production dependency`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('exposes every role default port (handler public, admin, raft; exit link, status; proxy)', () => {
    const exposed = new Set(inFinal('EXPOSE').flatMap((i) => i.args.split(/\s+/)).map(Number));
    const key = encodeKey(generateKeyPair().privateKey);
    const pub = encodeKey(generateKeyPair().publicKey);
    const h = validateConfig('handler', { path: '/p', clusterKey: { privateKey: key }, admin: { token: 'x'.repeat(16) } });
    const e = validateConfig('exit', { id: 'e', region: 'r', key: { privateKey: key }, clusterPublicKey: pub, listen: { path: '/l' } });
    const c = validateConfig('client', { handlers: ['wss://h.example/p'], clusterPublicKey: pub, key: { privateKey: key } });
    const defaults = [h.listen.port, h.admin.port, h.raft.listen.port, e.listen!.port, e.status.port, c.listen.port, c.status.port];
    for (const port of defaults) assert.ok(exposed.has(port), `port ${port} is not exposed`);
  });

  it('probes health with a script it copies, in exec form', () => {
    const hc = inFinal('HEALTHCHECK');
    assert.equal(hc.length, 1);
    const m = /CMD\s+(\[.*\])$/.exec(hc[0]!.args);
    assert.ok(m !== null, 'HEALTHCHECK ... CMD ["node", "..."]');
    const argv = execForm(m[1]!);
    assert.equal(argv[0], 'node');
    assert.ok(existsSync(repoPath(argv[1]!)), argv[1]);
    assert.ok(contextCopies(finalStage).some((c) => c.src === argv[1]), 'the probe script is copied into the image');
  });
});

describe('deploy/docker/Dockerfile.dockerignore', () => {
  const patterns = readRepo('deploy/docker/Dockerfile.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  it('matches like Docker does on a few known paths', () => {
    assert.ok(ignored('node_modules/x/index.js', ['**/node_modules']));
    assert.ok(ignored('a/b/node_modules', ['**/node_modules']));
    assert.ok(!ignored('shared/x.ts', ['**/node_modules']));
    assert.ok(!ignored('x.key', ['*.md', '!x.key']));
  });

  it('keeps every file the Dockerfile copies from the context', () => {
    const files = contextCopies().flatMap((c) => (c.src.includes('.') ? [c.src] : listFiles(c.src)));
    const dropped = files.filter((f) => ignored(f, patterns));
    assert.deepEqual(dropped, []);
  });

  it('leaves out dependencies, a local build, VCS data, generated keys and local state', () => {
    for (const p of ['node_modules/tsx/package.json', 'dist/cli/main.js', 'dist/.tsbuildinfo', '.git/HEAD', '.apfsds/cluster.key', 'deploy/compose/secrets/cluster.key', 'deploy/compose/.env', 'tmp/x', 'deploy/examples/keys/exit-us.key']) {
      assert.ok(ignored(p, patterns), `${p} would be sent to the builder`);
    }
  });
});

describe('deploy/docker/healthcheck.mjs', () => {
  const script = repoPath('deploy/docker/healthcheck.mjs');
  const probe = (env: Record<string, string>) => run('node', [script], { env: { APFSDS_HEALTH_URL: '', ...env }, ms: 20_000 });

  async function serveStatus(status: number | 'hang'): Promise<{ url: string; server: Server }> {
    const server = createServer((_req, res) => {
      if (status === 'hang') return;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status === 200 ? '{"status":"ok"}' : '{"ready":false}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/health`, server };
  }
  const stop = (server: Server): Promise<void> =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });

  it('is healthy on a 200 answer and unhealthy on 503', async () => {
    const ok = await serveStatus(200);
    const bad = await serveStatus(503);
    try {
      const a = await probe({ APFSDS_HEALTH_URL: ok.url });
      assert.equal(a.code, 0, a.stdout);
      const b = await probe({ APFSDS_HEALTH_URL: bad.url });
      assert.equal(b.code, 1, b.stdout);
    } finally {
      await stop(ok.server);
      await stop(bad.server);
    }
  });

  it('is unhealthy when nothing listens or the answer does not come in time', async () => {
    const closed = await serveStatus(200);
    const url = closed.url;
    await stop(closed.server);
    assert.equal((await probe({ APFSDS_HEALTH_URL: url })).code, 1);
    const hang = await serveStatus('hang');
    try {
      const r = await probe({ APFSDS_HEALTH_URL: hang.url, APFSDS_HEALTH_TIMEOUT_MS: '300' });
      assert.equal(r.code, 1, r.stdout);
    } finally {
      await stop(hang.server);
    }
  });

  it('picks the probe URL from the role on the image command line, and skips commands without one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'apfsds-hc-'));
    try {
      const cmdline = (argv: string[]): string => {
        const path = join(dir, argv.join('-').replace(/\//g, '_'));
        writeFileSync(path, `${argv.join('\0')}\0`);
        return path;
      };
      // PID 1 of the image: its ENTRYPOINT followed by the role's arguments.
      const entry = execForm(inFinal('ENTRYPOINT')[0]!.args);
      const expected: Record<string, string> = { handler: '9090', up: '9090', exit: '9091', client: '9092' };
      for (const [role, port] of Object.entries(expected)) {
        const r = await probe({ APFSDS_HEALTH_CMDLINE: cmdline([...entry, role, '--config', 'x.yaml']), APFSDS_HEALTH_TIMEOUT_MS: '500' });
        assert.match(r.stdout, new RegExp(`http://127\\.0\\.0\\.1:${port}/health`), role);
      }
      // An absolute entry after node flags, and the sources through tsx, name the role the same way.
      for (const argv of [
        ['node', '--enable-source-maps', '/opt/apfsds/dist/cli/main.js', 'exit'],
        ['node', '--import', 'tsx', 'cli/main.ts', 'exit'],
      ]) {
        const r = await probe({ APFSDS_HEALTH_CMDLINE: cmdline(argv), APFSDS_HEALTH_TIMEOUT_MS: '500' });
        assert.match(r.stdout, /http:\/\/127\.0\.0\.1:9091\/health/, argv.join(' '));
      }
      const keygen = await probe({ APFSDS_HEALTH_CMDLINE: cmdline([...entry, 'keygen']) });
      assert.equal(keygen.code, 0);
      const off = await probe({ APFSDS_HEALTH_URL: 'none' });
      assert.equal(off.code, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

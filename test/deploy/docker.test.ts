/**
 * deploy/docker: the Dockerfile builds what the container runs (checked without Docker): its
 * stages, the production-only install, the non-root user, the ENTRYPOINT file and CMD
 * subcommand (and the CMD runs here, with --help), the sources it copies and the packages those
 * sources import, the ignore file, the exposed default ports and the health probe script.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, relative } from 'node:path';
import { validateConfig } from '../../shared/config/index.ts';
import { encodeKey, generateKeyPair } from '../../shared/crypto/keys.ts';
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
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
};
const finalStage = Math.max(...dockerfile.map((i) => i.stage));
const inFinal = (op: string): Instruction[] => dockerfile.filter((i) => i.op === op && i.stage === finalStage);
const execForm = (args: string): string[] => JSON.parse(args) as string[];

/** COPY sources from the build context (not --from=stage), as repository paths. */
function contextCopies(): { src: string; dest: string }[] {
  return dockerfile
    .filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))
    .flatMap((i) => {
      const parts = i.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      const dest = parts.pop()!;
      return parts.map((src) => ({ src, dest }));
    });
}

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
  it('is multi-stage on node:20-bookworm-slim', () => {
    const arg = dockerfile.find((i) => i.op === 'ARG' && i.args.startsWith('NODE_IMAGE='));
    assert.equal(arg?.args, 'NODE_IMAGE=node:20-bookworm-slim');
    const froms = dockerfile.filter((i) => i.op === 'FROM');
    assert.ok(froms.length >= 2, 'at least a dependency stage and a runtime stage');
    for (const f of froms) assert.match(f.args, /^\$\{NODE_IMAGE\} AS [a-z]+$/);
  });

  it('installs production dependencies only, and tsx is one of them (deno is not)', () => {
    assert.ok(dockerfile.some((i) => i.op === 'RUN' && /\bnpm ci --omit=dev\b/.test(i.args)));
    assert.ok('tsx' in pkg.dependencies, 'tsx runs the sources in the container');
    assert.ok(!('deno' in pkg.dependencies) && 'deno' in pkg.devDependencies);
    const copies = dockerfile.filter((i) => i.op === 'COPY' && i.stage === 0).map((i) => i.args);
    assert.deepEqual(copies, ['package.json package-lock.json ./'], 'the install layer depends on the manifests only');
  });

  it('runs as a fixed non-root user', () => {
    const users = inFinal('USER');
    assert.equal(users.length, 1);
    const [uid, gid] = users[0]!.args.split(':');
    assert.ok(Number(uid) >= 1000 && Number(gid) >= 1000, `USER ${users[0]!.args}`);
    const entry = dockerfile.findIndex((i) => i.op === 'ENTRYPOINT');
    assert.ok(dockerfile.indexOf(users[0]!) < entry, 'USER comes before ENTRYPOINT');
  });

  it('has the ENTRYPOINT node --import tsx cli/main.ts, a file the image copies from the repo', () => {
    const entry = inFinal('ENTRYPOINT');
    assert.equal(entry.length, 1);
    assert.deepEqual(execForm(entry[0]!.args), ['node', '--import', 'tsx', 'cli/main.ts']);
    assert.equal(inFinal('WORKDIR').at(-1)?.args, '/app');
    assert.ok(existsSync(repoPath('cli/main.ts')));
    assert.ok(contextCopies().some((c) => c.src === 'cli' && c.dest === './cli'));
  });

  it('has a CMD whose subcommand exists', () => {
    const cmd = execForm(inFinal('CMD')[0]!.args);
    assert.ok(CLI_COMMANDS.includes(cmd[0]!), `${cmd[0]} is not in cli/commands`);
  });

  it('CMD runs here as it would in the container (with --help)', async () => {
    const cmd = execForm(inFinal('CMD')[0]!.args);
    const entry = execForm(inFinal('ENTRYPOINT')[0]!.args);
    const r = await run(entry[0]!, [...entry.slice(1), ...cmd, '--help'], { cwd: REPO, ms: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`Usage: apfsds ${cmd[0]}`));
  });

  it('copies sources that exist, and every module they import is copied or a production dependency', () => {
    const copies = contextCopies();
    for (const c of copies) assert.ok(existsSync(repoPath(c.src)), `COPY ${c.src}: not in the repository`);
    const copied = copies.map((c) => c.src);
    const inImage = (file: string): boolean => copied.some((c) => file === c || file.startsWith(`${c}/`));
    const runtimeDeps = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.optionalDependencies ?? {})]);
    const sources = copied.filter((c) => !c.includes('.')).flatMap((dir) => listFiles(dir)).filter((f) => /\.(ts|mjs)$/.test(f));
    assert.ok(sources.length > 50, 'the sources of every role');
    const problems: string[] = [];
    for (const file of sources) {
      const text = readFileSync(repoPath(file), 'utf8');
      for (const m of text.matchAll(/^\s*(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)) {
        const spec = m[2]!;
        if (m[1] !== undefined) continue;
        if (spec.startsWith('node:')) continue;
        if (spec.startsWith('.')) {
          const target = relative(REPO, join(dirname(repoPath(file)), spec));
          if (!inImage(target)) problems.push(`${file} imports ${spec}, which the image does not copy`);
          continue;
        }
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
        if (!runtimeDeps.has(name)) problems.push(`${file} imports ${spec}: ${name} is not a production dependency`);
      }
      for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) {
        const spec = m[1]!;
        if (!spec.startsWith('.') && !spec.startsWith('node:')) {
          const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
          if (!runtimeDeps.has(name)) problems.push(`${file} imports ${spec} dynamically: not a production dependency`);
        }
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
    assert.ok(contextCopies().some((c) => c.src === argv[1]), 'the probe script is copied into the image');
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

  it('leaves out dependencies, VCS data, generated keys and local state', () => {
    for (const p of ['node_modules/tsx/package.json', '.git/HEAD', '.apfsds/cluster.key', 'deploy/compose/secrets/cluster.key', 'deploy/compose/.env', 'tmp/x', 'deploy/examples/keys/exit-us.key']) {
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

  it('picks the probe URL from the role on the command line, and skips commands without one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'apfsds-hc-'));
    try {
      const cmdline = (args: string[]): string => {
        const path = join(dir, args.join('-'));
        writeFileSync(path, `${['node', '--import', 'tsx', 'cli/main.ts', ...args].join('\0')}\0`);
        return path;
      };
      const expected: Record<string, string> = { handler: '9090', up: '9090', exit: '9091', client: '9092' };
      for (const [role, port] of Object.entries(expected)) {
        const r = await probe({ APFSDS_HEALTH_CMDLINE: cmdline([role, '--config', 'x.yaml']), APFSDS_HEALTH_TIMEOUT_MS: '500' });
        assert.match(r.stdout, new RegExp(`http://127\\.0\\.0\\.1:${port}/health`), role);
      }
      const keygen = await probe({ APFSDS_HEALTH_CMDLINE: cmdline(['keygen']) });
      assert.equal(keygen.code, 0);
      const off = await probe({ APFSDS_HEALTH_URL: 'none' });
      assert.equal(off.code, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

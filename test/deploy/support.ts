/**
 * Helpers for the deploy/ artifact tests: repository paths, the CLI's subcommands, the metric
 * names the catalog declares, compose-style variable interpolation and a ConfigIO over disk.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import type { ConfigIO } from '../../shared/config/index.ts';
import { clientMetrics, exitMetrics, handlerMetrics, raftMetrics } from '../../shared/metrics/catalog.ts';
import { Registry } from '../../shared/metrics/registry.ts';

/** Absolute path of the repository root. */
export const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** Absolute path of a repository file. */
export const repoPath = (...parts: string[]): string => join(REPO, ...parts);

/** Reads a repository file as text. */
export const readRepo = (...parts: string[]): string => readFileSync(repoPath(...parts), 'utf8');

/** Every file under a repository directory, as repository-relative paths, sorted. */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (abs: string): void => {
    for (const name of readdirSync(abs).sort()) {
      const p = join(abs, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(REPO, p));
    }
  };
  walk(repoPath(dir));
  return out;
}

/** The `apfsds` subcommands: cli/commands/<name>.ts, as cli/main.ts finds them. */
export const CLI_COMMANDS: readonly string[] = readdirSync(repoPath('cli', 'commands'))
  .filter((f) => f.endsWith('.ts') && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .sort();

/** Metric name -> type, read from the exposition of every catalog on a fresh registry. */
export function catalogMetrics(): Map<string, string> {
  const r = new Registry();
  handlerMetrics(r);
  raftMetrics(r);
  exitMetrics(r);
  clientMetrics(r);
  const out = new Map<string, string>();
  for (const line of r.metrics().split('\n')) {
    const m = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (m !== null) out.set(m[1]!, m[2]!);
  }
  return out;
}

/**
 * The catalog names a PromQL expression uses that do not exist. `_bucket`, `_sum` and
 * `_count` are accepted on histograms only.
 */
export function unknownMetrics(expr: string, catalog: Map<string, string>): string[] {
  const bad: string[] = [];
  for (const [name] of expr.matchAll(/\bapfsds_[a-z0-9_]+\b/g)) {
    if (catalog.has(name)) continue;
    const base = /^(.*)_(bucket|sum|count)$/.exec(name)?.[1];
    if (base !== undefined && catalog.get(base) === 'histogram') continue;
    bad.push(name);
  }
  return bad;
}

/** Parses YAML with duplicate keys refused and merge keys (`<<`) resolved, as compose does. */
export function parseYaml(text: string, what: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, merge: true });
  if (doc.errors.length > 0) throw new Error(`${what}: ${doc.errors.map((e) => e.message).join('; ')}`);
  return doc.toJS({ maxAliasCount: 1000 }) as unknown;
}

/**
 * Compose-file interpolation (compose spec "Interpolation"): `$$`, `${NAME}`, `$NAME`,
 * `${NAME:-default}`, `${NAME-default}`, `${NAME:?error}`, `${NAME?error}`.
 */
export function interpolate(text: string, env: Readonly<Record<string, string | undefined>>): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (m, braced, op, arg, bare) => {
    if (m === '$$') return '$';
    const name = (braced ?? bare) as string;
    const value = env[name];
    const unsetOrEmpty = value === undefined || (op?.startsWith(':') === true && value === '');
    if (op === undefined) return value ?? '';
    if (op.endsWith('-')) return unsetOrEmpty ? (arg as string) : value!;
    if (unsetOrEmpty) throw new Error(`compose variable ${name} is required: ${arg as string}`);
    return value!;
  });
}

/** Reads a dotenv file as compose does (KEY=VALUE lines, # comments). */
export function readDotenv(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m !== null) out[m[1]!] = m[2]!.trim();
  }
  return out;
}

/** A ConfigIO over the real disk, collecting warnings. */
export function diskIO(env: Record<string, string | undefined>, warnings: string[] = []): ConfigIO {
  return {
    readText: (p) => readFile(p, 'utf8'),
    env,
    fileMode: async (p) => {
      try {
        return (await stat(p)).mode & 0o777;
      } catch {
        return undefined;
      }
    },
    warn: (m) => void warnings.push(m),
  };
}

/** Whether a program is an executable file in one of the PATH directories. */
export function hasProgram(name: string): boolean {
  const dirs = (process.env['PATH'] ?? '').split(':').filter((d) => d !== '');
  return dirs.some((d) => existsSync(join(d, name)));
}

/** Result of a finished child process. */
export type RunResult = { code: number | null; stdout: string; stderr: string };

/** Runs a program to completion (killed after `ms`), collecting its output. */
export function run(cmd: string, args: string[], options: { cwd?: string; env?: Record<string, string | undefined>; ms?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: options.cwd ?? REPO,
      env: { ...process.env, ...(options.env ?? {}) } as Record<string, string>,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.ms ?? 60_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

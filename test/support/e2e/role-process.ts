/**
 * One APFSDS role as a real child process, started through the real command line
 * (`apfsds <role> --config FILE`) on the same runtime as the test runner: `node --import tsx
 * cli/main.ts` under Node, `deno run -A cli/main.ts` under Deno, so a Deno test run proves the
 * roles on Deno; or, on Node with `fromBuild`, the compiled `node dist/cli/main.js` that
 * `npm start` and the deploy artifacts run. Collects every output line (JSON log lines
 * parsed), waits for lines with a deadline, and stops with SIGTERM, then SIGKILL.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { runtime as hostRuntime } from '../../../shared/runtime/detect.ts';
import { deferred, within, type Deferred } from './wait.ts';

/** The repository root (cwd of every role process). */
export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
/** The CLI entry every role starts from. */
export const CLI = join(REPO, 'cli', 'main.ts');
const DENO_BIN = join(REPO, 'node_modules', '.bin', 'deno');

/** Which runtime role processes use: the test runner's own, unless APFSDS_E2E_RUNTIME says otherwise. */
export const roleRuntime: 'node' | 'deno' =
  process.env['APFSDS_E2E_RUNTIME'] === 'node' || process.env['APFSDS_E2E_RUNTIME'] === 'deno'
    ? process.env['APFSDS_E2E_RUNTIME']
    : hostRuntime;

/** Extra Node flags for every role (profiling: `APFSDS_E2E_NODE_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof"`). */
const NODE_FLAGS = (process.env['APFSDS_E2E_NODE_FLAGS'] ?? '').split(' ').filter((f) => f !== '');

let built = false;

/**
 * Builds the product into dist/ (`npm run build`: scripts/build.mjs, incremental tsc) once per
 * process, so roles can run the JavaScript that `npm start` and the deploy artifacts run. The
 * Node test run builds before any test file starts (scripts/test.mjs), so this is a no-op there
 * and no two test files write dist/ at once. Throws with tsc's output when the build fails.
 */
export function buildDist(): void {
  if (built) return;
  const script = join(REPO, 'scripts', 'build.mjs');
  const result = spawnSync(hostRuntime === 'node' ? process.execPath : 'node', [script], { cwd: REPO, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`npm run build failed (${result.status ?? result.signal}):\n${result.stdout}${result.stderr}`);
  built = true;
}

/** dist/<path>.js for a source file <path>.ts under the repository (what the build emits). */
export function builtPath(entry: string): string {
  if (!entry.startsWith(REPO) || !entry.endsWith('.ts')) throw new Error(`${entry} is not a source file of this repository`);
  return join(REPO, 'dist', `${entry.slice(REPO.length, -3)}.js`);
}

/**
 * The executable and arguments that run the TypeScript file `entry` with `args` on `rt`;
 * with `fromBuild` on Node, the compiled dist/ file instead (call buildDist() first).
 */
export function scriptCommand(entry: string, args: readonly string[], rt: 'node' | 'deno' = roleRuntime, fromBuild = false): { file: string; args: string[] } {
  if (rt === 'deno') {
    const deno = existsSync(DENO_BIN) ? DENO_BIN : process.execPath;
    return { file: deno, args: ['run', '-A', entry, ...args] };
  }
  const node = hostRuntime === 'node' ? process.execPath : 'node';
  if (fromBuild) return { file: node, args: [...NODE_FLAGS, builtPath(entry), ...args] };
  return { file: node, args: [...NODE_FLAGS, '--import', 'tsx', entry, ...args] };
}

/** The executable and arguments that run `apfsds ...args` on `rt`. */
export function cliCommand(args: readonly string[], rt: 'node' | 'deno' = roleRuntime, fromBuild = false): { file: string; args: string[] } {
  return scriptCommand(CLI, args, rt, fromBuild);
}

/**
 * The environment of a role: ours without APFSDS_* settings (they would override the config
 * files under test), without the node:test child marker (it changes what a Node child prints)
 * and without NODE_OPTIONS, plus `extra`.
 */
export function roleEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined) continue;
    if (k.startsWith('APFSDS_') || k === 'NODE_TEST_CONTEXT' || k === 'NODE_OPTIONS' || /^(https?|all|no)_proxy$/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, NO_COLOR: '1', ...extra };
}

/** One output line of a role. */
export interface LogLine {
  stream: 'stdout' | 'stderr';
  text: string;
  /** The parsed object when the line is JSON (pino). */
  json?: Record<string, unknown>;
}

/** What to start. */
export interface RoleSpec {
  /** Name in messages and the log file name. */
  name: string;
  /** Arguments after `apfsds`, e.g. ['exit', '--config', path]. */
  args: string[];
  /** Run this TypeScript file instead of the CLI. */
  entry?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Directory for `<name>.log` (every line, for post-mortems). */
  logDir?: string;
  /** Override the runtime. */
  runtime?: 'node' | 'deno';
  /** On Node, run the compiled dist/ JavaScript as `npm start` does (built on demand). */
  fromBuild?: boolean;
}

const MAX_LINES = 20_000;
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when a test run is torn down without its after hooks: no orphan roles.
  process.on('exit', () => {
    for (const child of live) {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/** A running (or finished) role process. */
export class RoleProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly lines: LogLine[] = [];
  /** Resolves with the exit code (or signal name) once the process is gone. */
  readonly exited: Promise<number | string>;
  #exitedValue: number | string | undefined;
  #dropped = 0;
  #waiters = new Set<{ match: (l: LogLine) => boolean; done: Deferred<LogLine> }>();
  #log: WriteStream | undefined;

  constructor(spec: RoleSpec) {
    installExitHook();
    this.name = spec.name;
    const fromBuild = spec.fromBuild === true && (spec.runtime ?? roleRuntime) === 'node';
    if (fromBuild) buildDist();
    const cmd = spec.entry === undefined ? cliCommand(spec.args, spec.runtime, fromBuild) : scriptCommand(spec.entry, spec.args, spec.runtime, fromBuild);
    // stdin is a pipe nobody writes: it closes when this process dies, which ends helpers such as bench-peer.ts.
    this.child = spawn(cmd.file, cmd.args, { cwd: REPO, env: roleEnv(spec.env), stdio: ['pipe', 'pipe', 'pipe'] });
    live.add(this.child);
    if (spec.logDir !== undefined) this.#log = createWriteStream(join(spec.logDir, `${spec.name}.log`));
    const ended = deferred<number | string>();
    this.exited = ended.promise;
    this.child.once('exit', (code, signal) => {
      live.delete(this.child);
      this.#exitedValue = code ?? signal ?? 'unknown';
      this.#push({ stream: 'stderr', text: `[harness] ${this.name} exited with ${this.#exitedValue}` });
      for (const w of this.#waiters) w.done.reject(new Error(`${this.name} exited (${this.#exitedValue}) while waiting\n${this.tail()}`));
      this.#waiters.clear();
      this.#log?.end();
      ended.resolve(this.#exitedValue);
    });
    this.child.once('error', (err) => {
      this.#push({ stream: 'stderr', text: `[harness] spawn failed: ${err.message}` });
    });
    this.#split(this.child.stdout!, 'stdout');
    this.#split(this.child.stderr!, 'stderr');
  }

  /** The process id (for RSS sampling and signals). */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** True once the process has exited. */
  get hasExited(): boolean {
    return this.#exitedValue !== undefined;
  }

  #split(stream: NodeJS.ReadableStream, name: 'stdout' | 'stderr'): void {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      rest += chunk;
      let nl = rest.indexOf('\n');
      while (nl >= 0) {
        this.#line(name, rest.slice(0, nl));
        rest = rest.slice(nl + 1);
        nl = rest.indexOf('\n');
      }
    });
    stream.on('end', () => {
      if (rest !== '') this.#line(name, rest);
    });
  }

  #line(stream: 'stdout' | 'stderr', text: string): void {
    const line: LogLine = { stream, text };
    if (text.startsWith('{')) {
      try {
        const v = JSON.parse(text) as unknown;
        if (typeof v === 'object' && v !== null) line.json = v as Record<string, unknown>;
      } catch {
        // not JSON after all
      }
    }
    this.#push(line);
  }

  #push(line: LogLine): void {
    this.lines.push(line);
    if (this.lines.length > MAX_LINES) {
      this.lines.splice(0, this.lines.length - MAX_LINES);
      this.#dropped++;
    }
    this.#log?.write(`${line.stream === 'stderr' ? '! ' : ''}${line.text}\n`);
    for (const w of this.#waiters) {
      if (w.match(line)) {
        this.#waiters.delete(w);
        w.done.resolve(line);
      }
    }
  }

  /**
   * Resolves with the first line (already seen or coming) that `match` accepts; rejects when
   * the process exits first or after `timeoutMs`, quoting the last lines.
   */
  async waitForLine(match: (l: LogLine) => boolean, timeoutMs: number, what: string): Promise<LogLine> {
    const seen = this.lines.find(match);
    if (seen !== undefined) return seen;
    if (this.hasExited) throw new Error(`${this.name} exited (${this.#exitedValue}) before ${what}\n${this.tail()}`);
    const w = { match, done: deferred<LogLine>() };
    this.#waiters.add(w);
    try {
      return await within(w.done.promise, timeoutMs, `${this.name}: ${what}`);
    } catch (err) {
      this.#waiters.delete(w);
      const msg = err instanceof Error ? err.message : String(err);
      throw new Error(msg.includes(this.name + ' exited') ? msg : `${msg}\n${this.tail()}`);
    }
  }

  /** Waits for a JSON line with msg "ready" (optionally also accepted by `match`); returns its fields. */
  async waitReady(timeoutMs: number, match: (json: Record<string, unknown>) => boolean = () => true): Promise<Record<string, unknown>> {
    const line = await this.waitForLine((l) => l.json?.['msg'] === 'ready' && match(l.json), timeoutMs, 'the "ready" log line');
    return line.json!;
  }

  /** JSON log lines whose fields `match` accepts. */
  records(match: (json: Record<string, unknown>) => boolean = () => true): Record<string, unknown>[] {
    return this.lines.flatMap((l) => (l.json !== undefined && match(l.json) ? [l.json] : []));
  }

  /** The last `n` output lines, indented, for failure messages. */
  tail(n = 40): string {
    const lines = this.lines.slice(-n).map((l) => `    ${l.stream === 'stderr' ? '! ' : ''}${l.text.length > 600 ? `${l.text.slice(0, 600)}...` : l.text}`);
    const dropped = this.#dropped > 0 ? ' (older lines dropped)' : '';
    return `  --- last ${lines.length} lines of ${this.name}${dropped} ---\n${lines.join('\n')}`;
  }

  /** Sends a signal without waiting. */
  signal(sig: NodeJS.Signals): void {
    if (!this.hasExited) this.child.kill(sig);
  }

  /** SIGKILL, then waits for the exit. */
  async kill(): Promise<void> {
    if (this.hasExited) return;
    this.child.kill('SIGKILL');
    await within(this.exited, 10_000, `${this.name} to die on SIGKILL`);
  }

  /** SIGTERM; SIGKILL after `graceMs` if still running. Resolves with how it ended. */
  async stop(graceMs = 5_000): Promise<number | string> {
    if (this.hasExited) return this.#exitedValue!;
    this.child.kill('SIGTERM');
    try {
      return await within(this.exited, graceMs, `${this.name} to stop on SIGTERM`);
    } catch {
      this.child.kill('SIGKILL');
      return await within(this.exited, 10_000, `${this.name} to die on SIGKILL`);
    }
  }
}

/** Starts a role process (does not wait for readiness). */
export function spawnRole(spec: RoleSpec): RoleProcess {
  return new RoleProcess(spec);
}

/**
 * Runs the `apfsds` command as a child process on the current runtime (node --import tsx, or
 * deno run -A) and collects its JSON log lines, so tests can wait for "ready".
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runtime } from '../../shared/runtime/detect.ts';
import { within } from '../shared/runtime/fixtures.ts';

const MAIN = fileURLToPath(new URL('../../cli/main.ts', import.meta.url));

/** A running `apfsds` child. */
export interface CliChild {
  proc: ChildProcessWithoutNullStreams;
  /** Parsed JSON lines from stdout. */
  lines: Array<Record<string, unknown>>;
  /** The same lines as printed (JSON.parse keeps only the last of a repeated key). */
  rawLines: string[];
  stderr(): string;
  /** Resolves with the first line that satisfies `match`. */
  waitFor(match: (line: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
  /** Resolves once stderr matches `re`. */
  waitStderr(re: RegExp, ms?: number): Promise<void>;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** SIGTERM, then wait (SIGKILL after `ms`). */
  stop(ms?: number): Promise<number | null>;
}

/** Spawns `apfsds <args>` with JSON logs. */
export function spawnCli(args: string[], env: Record<string, string> = {}): CliChild {
  const argv = runtime === 'deno' ? ['run', '-A', MAIN, ...args] : ['--import', 'tsx', MAIN, ...args];
  const proc = spawn(process.execPath, argv, {
    env: { ...process.env, APFSDS_LOG_LEVEL: 'debug', NO_COLOR: '1', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  const rawLines: string[] = [];
  const watchers = new Set<() => void>();
  let pending = '';
  let err = '';
  proc.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (line.startsWith('{')) {
        try {
          lines.push(JSON.parse(line) as Record<string, unknown>);
          rawLines.push(line);
        } catch {
          // not a log line
        }
      }
    }
    for (const w of [...watchers]) w();
  });
  proc.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
    for (const w of [...watchers]) w();
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    proc,
    lines,
    rawLines,
    stderr: () => err,
    exited,
    waitFor(match, ms = 60_000) {
      return within(
        new Promise((resolve, reject) => {
          const check = (): void => {
            const found = lines.find(match);
            if (found !== undefined) {
              watchers.delete(check);
              resolve(found);
            }
          };
          watchers.add(check);
          void exited.then((code) => reject(new Error(`apfsds exited with ${code} before the line appeared:\n${err}`)));
          check();
        }),
        ms,
        'CLI log line',
      );
    },
    waitStderr(re, ms = 30_000) {
      return within(
        new Promise<void>((resolve) => {
          const check = (): void => {
            if (!re.test(err)) return;
            watchers.delete(check);
            resolve();
          };
          watchers.add(check);
          check();
        }),
        ms,
        `stderr ${re}`,
      );
    },
    async stop(ms = 15_000) {
      proc.kill('SIGTERM');
      try {
        return await within(exited, ms, 'CLI exit');
      } finally {
        proc.kill('SIGKILL');
      }
    },
  };
}

/**
 * What every role command (`apfsds handler|exit|client|up`) does the same way: parse its flags
 * with a usage text, read config files with key-file mode checks, and run the role until
 * SIGINT or SIGTERM. Lives beside commands/ (not in it) so cli/main.ts does not list it.
 */
import { readFile, stat } from 'node:fs/promises';
import process from 'node:process';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { ConfigIO } from '../shared/config/index.ts';
import type { Logger } from '../shared/log.ts';
import { onShutdownSignal } from '../shared/runtime/index.ts';

type Options = NonNullable<ParseArgsConfig['options']>;
type Help = { help: { type: 'boolean'; short: 'h' } };
type Parsed<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O & Help; strict: true; allowPositionals: false }>>['values'];

/**
 * Parses `argv` strictly. Returns the values, or the exit code when the command is done:
 * 0 after printing the usage for --help, 2 after a usage error.
 */
export function parseCommandArgs<const O extends Options>(argv: string[], options: O, usage: string): Parsed<O> | number {
  let parsed;
  try {
    const all: O & Help = { ...options, help: { type: 'boolean', short: 'h' } };
    parsed = parseArgs({ args: argv, options: all, strict: true, allowPositionals: false });
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  if ((parsed.values as { help?: boolean }).help === true) {
    console.log(usage);
    return 0;
  }
  return parsed.values;
}

/** Config I/O on the real file system; findings (e.g. a key file readable by others) go to `warnings`. */
export function fileConfigIO(warnings: string[]): ConfigIO {
  return {
    readText: (path) => readFile(path, 'utf8'),
    env: process.env,
    fileMode: async (path) => (await stat(path)).mode & 0o777,
    warn: (message) => warnings.push(message),
  };
}

/** Resolves once SIGINT or SIGTERM arrived and `running.close()` has finished. */
export function runUntilSignal(running: { close(): Promise<void> }, logger: Logger): Promise<void> {
  return new Promise<void>((resolve) => {
    const unsubscribe = onShutdownSignal((signal) => {
      logger.info({ signal }, 'stopping');
      void running.close().finally(() => {
        unsubscribe();
        resolve();
      });
    });
  });
}

/**
 * The `apfsds` command. Each subcommand is cli/commands/<name>.ts exporting
 * `run(argv: string[]): Promise<number>` (the exit code) and a one-line `summary`.
 */
import { readdirSync } from 'node:fs';
import { tuneGarbageCollector } from '../shared/runtime/gc-tuning.ts';

tuneGarbageCollector();

type Command = { run(argv: string[]): Promise<number>; summary: string };

// The sources run as .ts (tsx, Deno) and the build (`npm run build`) as .js under dist/.
const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const dir = new URL('./commands/', import.meta.url);
const names = readdirSync(dir)
  .filter((f) => f.endsWith(EXT) && !f.startsWith('_'))
  .map((f) => f.slice(0, -EXT.length))
  .sort();

async function load(name: string): Promise<Command> {
  return (await import(new URL(`./${name}${EXT}`, dir).href)) as Command;
}

async function usage(): Promise<string> {
  const lines = ['Usage: apfsds <command> [options]', '', 'Commands:'];
  for (const name of names) lines.push(`  ${name.padEnd(10)} ${(await load(name)).summary}`);
  lines.push('', 'Run `apfsds <command> --help` for the options of one command.');
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(await usage());
    return name === undefined ? 2 : 0;
  }
  if (!names.includes(name)) {
    console.error(`Unknown command "${name}".\n\n${await usage()}`);
    return 2;
  }
  return (await load(name)).run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  },
);

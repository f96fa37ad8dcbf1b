#!/usr/bin/env node
// `npm run build`: compiles the product (tsconfig.build.json: shared, handler, exit, client,
// cli) into dist/ with tsc (incremental), then deletes every dist/ file whose source is gone,
// so a removed command or module never lingers in the build (cli/main.ts lists the commands
// it finds in dist/cli/commands/). Exits with tsc's status on a type error.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The source a dist/ file was emitted from (x.js and x.js.map come from x.ts), or null. */
function sourceOf(file, dist, root) {
  const rel = relative(dist, file);
  const stem = rel.endsWith('.js.map') ? rel.slice(0, -7) : rel.endsWith('.js') ? rel.slice(0, -3) : null;
  return stem === null ? null : join(root, `${stem}.ts`);
}

/**
 * Deletes every emitted file under `dist` whose source under `root` is gone, and the folders
 * that leaves empty. Other files (.tsbuildinfo) stay. Returns the deleted paths.
 */
export function pruneStale(dist, root) {
  const deleted = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(path);
        if (readdirSync(path).length === 0) rmSync(path, { recursive: true });
        continue;
      }
      const source = sourceOf(path, dist, root);
      if (source !== null && !existsSync(source)) {
        rmSync(path);
        deleted.push(path);
      }
    }
  };
  if (existsSync(dist)) walk(dist);
  return deleted;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
  pruneStale(join(root, 'dist'), root);
}

#!/usr/bin/env node
// `npm run build`: compiles the product (tsconfig.build.json: shared, handler, exit, client,
// cli) into dist/ with tsc (incremental), then deletes every dist/ file whose source is gone,
// so a removed command or module never lingers in the build (cli/main.ts lists the commands
// it finds in dist/cli/commands/). Exits with tsc's status on a type error.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

const result = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);

/** The source a dist/ file was emitted from: x.js and x.js.map come from x.ts. */
function sourceOf(file) {
  const rel = relative(dist, file);
  const stem = rel.endsWith('.js.map') ? rel.slice(0, -7) : rel.endsWith('.js') ? rel.slice(0, -3) : null;
  return stem === null ? null : join(root, `${stem}.ts`);
}

function prune(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      prune(path);
      if (readdirSync(path).length === 0) rmSync(path, { recursive: true });
      continue;
    }
    const source = sourceOf(path);
    if (source !== null && !existsSync(source)) rmSync(path);
  }
}

if (existsSync(dist)) prune(dist);

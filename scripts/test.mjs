#!/usr/bin/env node
// Runs the node:test suite on one runtime: `node scripts/test.mjs node|deno [paths...]`.
// Node 20 has no glob support in `--test`, so the file list is built here; Deno gets the
// same files, so both runtimes run exactly the same tests.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';

const [runtime = 'node', ...roots] = process.argv.slice(2);
const root = process.cwd();

function collect(path, out) {
  const st = statSync(path);
  if (st.isFile()) {
    if (path.endsWith('.test.ts')) out.push(relative(root, path));
    return out;
  }
  for (const name of readdirSync(path).sort()) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    collect(join(path, name), out);
  }
  return out;
}

const files = (roots.length ? roots : ['test']).flatMap((r) => collect(join(root, r), []));
if (files.length === 0) {
  console.error(`no test files under ${roots.join(' ') || 'test'}`);
  process.exit(1);
}

const env = { ...process.env, APFSDS_TEST_RUNTIME: runtime };
// Tests that run the compiled product (`npm start`'s path) need dist/: build it once here, so
// test files running in parallel never write it at the same time (their buildDist() is then a
// no-op: tsc finds nothing to emit).
const build = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
let result;
if (runtime === 'node') {
  result = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      // Blocking stdout in each test process, so --test-force-exit never cuts its reports short.
      '--import',
      pathToFileURL(join(root, 'test', 'support', 'sync-stdio.mjs')).href,
      '--test',
      '--test-concurrency=2',
      '--test-timeout=600000',
      '--test-force-exit',
      ...files,
    ],
    { stdio: 'inherit', env },
  );
} else if (runtime === 'deno') {
  const deno = join(root, 'node_modules', '.bin', 'deno');
  result = spawnSync(deno, ['test', '-A', '--no-check', '--parallel', ...files], {
    stdio: 'inherit',
    env: { ...env, DENO_JOBS: '2', NO_COLOR: '1' },
  });
} else {
  console.error(`unknown runtime ${runtime}: expected node or deno`);
  process.exit(2);
}
if (result.error) {
  console.error(result.error.message);
  process.exit(1);
}
process.exit(result.status ?? 1);

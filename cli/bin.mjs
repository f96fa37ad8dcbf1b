#!/usr/bin/env node
// Entry for the installed `apfsds` binary: the compiled JavaScript (`npm run build` writes
// dist/), or, in a checkout that was never built, the TypeScript sources through tsx (a
// development dependency).
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    console.error('apfsds: dist/cli/main.js is missing and tsx is not installed: run `npm run build` first');
    process.exit(1);
  }
  register();
  await import('./main.ts');
}

#!/usr/bin/env node
// Entry for the installed `apfsds` binary: the compiled JavaScript (`npm run build` writes
// dist/), or the TypeScript sources through tsx in a checkout that was never built.
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli/main.js', import.meta.url);
if (existsSync(built)) {
  await import(built.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./main.ts');
}

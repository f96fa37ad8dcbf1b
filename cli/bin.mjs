#!/usr/bin/env node
// Entry for the installed `apfsds` binary: loads the TypeScript sources through tsx.
import { register } from 'tsx/esm/api';
register();
await import('./main.ts');

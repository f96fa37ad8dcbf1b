/** Test helpers: a ConfigIO over the real file system or an in-memory map. */
import { readFile } from 'node:fs/promises';
import type { ConfigIO } from '../../../shared/config/index.ts';

/** Reads real files; env is what the test gives. */
export function diskIO(env: Record<string, string> = {}, warnings: string[] = []): ConfigIO {
  return { readText: (p) => readFile(p, 'utf8'), env, warn: (m) => void warnings.push(m) };
}

/** Serves files from a map; anything else is ENOENT. */
export function memoryIO(files: Record<string, string>, env: Record<string, string> = {}): ConfigIO {
  return {
    env,
    readText: async (p) => {
      const text = files[p];
      if (text === undefined) throw Object.assign(new Error(`no such file ${p}`), { code: 'ENOENT' });
      return text;
    },
  };
}

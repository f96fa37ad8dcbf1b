import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { ConfigSchemas, type Role } from '../../../shared/config/index.ts';
import { unwrap } from '../../../shared/config/schema-walk.ts';

const doc = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');

type Def = { type: string; shape?: Record<string, z.core.$ZodType>; element?: z.core.$ZodType };

/** Every leaf field path of a schema, arrays written as `users[].id`. */
function leafPaths(schema: z.core.$ZodType, prefix = ''): string[] {
  const out: string[] = [];
  for (const s of unwrap(schema)) {
    const def = s._zod.def as unknown as Def;
    if (def.type === 'object' && def.shape !== undefined) {
      for (const [k, v] of Object.entries(def.shape)) {
        const path = prefix === '' ? k : `${prefix}.${k}`;
        const below = leafPaths(v, path);
        out.push(...(below.length === 0 ? [path] : below));
      }
    } else if (def.type === 'array' && def.element !== undefined) {
      out.push(...leafPaths(def.element, `${prefix}[]`));
    }
  }
  return [...new Set(out)];
}

function section(title: string): string {
  const start = doc.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, `docs/configuration.md has a "## ${title}" section`);
  const end = doc.indexOf('\n## ', start + 1);
  return doc.slice(start, end < 0 ? undefined : end);
}

describe('docs/configuration.md', () => {
  const common = section('Common blocks');
  for (const role of Object.keys(ConfigSchemas) as Role[]) {
    it(`documents every ${role} field`, () => {
      const own = section(role);
      const missing = leafPaths(ConfigSchemas[role]).filter((p) => {
        const cell = `\`${p}\``;
        return !own.includes(cell) && !(/^(limits|log|metrics)\./.test(p) && common.includes(cell));
      });
      assert.deepEqual(missing, []);
    });
  }
});

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pruneStale } from '../../scripts/build.mjs';

function touch(path: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, '');
}

describe('npm run build: pruneStale', () => {
  it('deletes the emitted files of removed sources and the folders they leave empty, nothing else', () => {
    const root = mkdtempSync(join(tmpdir(), 'apfsds-build-'));
    try {
      const dist = join(root, 'dist');
      touch(join(root, 'cli', 'commands', 'up.ts'));
      for (const f of ['cli/commands/up.js', 'cli/commands/up.js.map', 'cli/commands/gone.js', 'cli/commands/gone.js.map', 'old/only.js', '.tsbuildinfo']) {
        touch(join(dist, f));
      }
      const deleted = pruneStale(dist, root).map((p) => p.slice(dist.length + 1)).sort();
      assert.deepEqual(deleted, ['cli/commands/gone.js', 'cli/commands/gone.js.map', 'old/only.js']);
      assert.ok(existsSync(join(dist, 'cli', 'commands', 'up.js')) && existsSync(join(dist, 'cli', 'commands', 'up.js.map')));
      assert.ok(existsSync(join(dist, '.tsbuildinfo')), 'not an emitted file');
      assert.ok(!existsSync(join(dist, 'old')), 'the emptied folder is gone');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('does nothing when there is no dist/ yet', () => {
    assert.deepEqual(pruneStale(join(tmpdir(), 'apfsds-no-such-dist'), tmpdir()), []);
  });
});

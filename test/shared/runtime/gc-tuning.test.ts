import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runtime } from '../../../shared/runtime/detect.ts';
import { RELAY_NODE_FLAGS, RELAY_V8_FLAGS, tuneGarbageCollector } from '../../../shared/runtime/gc-tuning.ts';

const MODULE = fileURLToPath(new URL('../../../shared/runtime/gc-tuning.ts', import.meta.url));

describe('tuneGarbageCollector', () => {
  it('sets the relay flags on Node and nothing on Deno', () => {
    // Run in a child so this test runner keeps V8's defaults.
    if (runtime === 'deno') {
      assert.deepEqual(tuneGarbageCollector(), []);
      return;
    }
    const script = `
      const { tuneGarbageCollector } = await import(${JSON.stringify(MODULE)});
      console.log(JSON.stringify(tuneGarbageCollector()));
    `;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(JSON.parse(child.stdout.trim()), [...RELAY_V8_FLAGS]);
  });

  it('names only flags this V8 knows', () => {
    if (runtime === 'deno') return;
    // node --v8-options lists every flag; an unknown one would silently do nothing at run time.
    const listed = spawnSync(process.execPath, ['--v8-options'], { encoding: 'utf8' }).stdout;
    for (const flag of RELAY_V8_FLAGS) {
      const name = flag.replace(/^--no-/, '--');
      assert.ok(listed.includes(`  ${name} `) || listed.includes(`  ${name}\n`), `${name} is a V8 flag of this Node`);
    }
  });

  it('npm start passes the launch flags (the systemd and image tests check theirs)', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
    assert.equal(pkg.scripts['start'], `node ${RELAY_NODE_FLAGS.join(' ')} dist/cli/main.js up`);
  });

  it('launch flags are ones node accepts', () => {
    if (runtime === 'deno') return;
    const child = spawnSync(process.execPath, [...RELAY_NODE_FLAGS, '-e', '0'], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
  });
});

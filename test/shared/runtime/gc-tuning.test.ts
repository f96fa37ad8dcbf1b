import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runtime } from '../../../shared/runtime/detect.ts';
import { RELAY_V8_FLAGS, tuneGarbageCollector } from '../../../shared/runtime/gc-tuning.ts';

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
      const name = flag.replace(/^--no-/, '--').replace(/=.*$/, '');
      assert.ok(listed.includes(`  ${name} `) || listed.includes(`  ${name}\n`), `${name} is a V8 flag of this Node`);
    }
  });
});

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { isDeno, isNode, runtime, runtimeVersion } from '../../../shared/runtime/detect.ts';

it('detect reports the runtime the test runner chose', () => {
  const expected = process.env.APFSDS_TEST_RUNTIME;
  if (expected === 'node' || expected === 'deno') assert.equal(runtime, expected);
  assert.equal(isDeno, runtime === 'deno');
  assert.equal(isNode, runtime === 'node');
  assert.match(runtimeVersion, /^\d+\.\d+\.\d+/);
});

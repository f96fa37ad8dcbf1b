import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createReporter, median, percentile } from '../../bench/report.ts';

test('JSON reporter prints one object per result with the ratio against the baseline', () => {
  const lines: string[] = [];
  createReporter(true, (l) => lines.push(l)).report({
    scenario: 'aead', metric: 'throughput', value: 900, unit: 'MB/s', baseline: 1000,
  });
  assert.equal(lines.length, 1);
  assert.deepEqual(JSON.parse(lines[0]!), {
    scenario: 'aead', metric: 'throughput', value: 900, unit: 'MB/s', baseline: 1000, ratio: 0.9,
  });
});

test('percentile() uses nearest rank and median() is the 50th percentile', () => {
  const v = [5, 1, 4, 2, 3];
  assert.equal(median(v), 3);
  assert.equal(percentile(v, 99), 5);
  assert.equal(percentile(v, 0), 1);
  assert.throws(() => percentile([], 50), RangeError);
});

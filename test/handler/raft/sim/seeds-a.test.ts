import { test } from 'node:test';
import { assertSeedsPass } from './run-seeds.ts';

// 500 seeds in CI are split over two files so the two test workers share them.
test('simulated seeds 1-250 keep every invariant, recover after healing and stay linearizable', () => {
  assertSeedsPass(1, 250);
});

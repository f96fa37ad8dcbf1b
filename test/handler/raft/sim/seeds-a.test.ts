import { test } from 'node:test';
import { assertSeedsPass } from './run-seeds.ts';

// 1000 seeds in CI (about 10 s per runtime), split over two files so both test workers share them.
test('simulated seeds 1-500 keep every invariant, recover after healing and stay linearizable', () => {
  assertSeedsPass(1, 500);
});

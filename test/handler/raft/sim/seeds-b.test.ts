import { test } from 'node:test';
import { assertSeedsPass } from './run-seeds.ts';

test('simulated seeds 251-500 keep every invariant, recover after healing and stay linearizable', () => {
  assertSeedsPass(251, 500);
});

import { test } from 'node:test';
import { assertSeedsPass } from './run-seeds.ts';

test('simulated seeds 501-1000 keep every invariant, recover after healing and stay linearizable', () => {
  assertSeedsPass(501, 1000);
});

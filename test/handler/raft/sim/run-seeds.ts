/** Shared body of the seed-sweep tests: runs a seed range and reports every failing seed. */
import assert from 'node:assert/strict';
import { runSimulation } from './simulation.ts';

/** Runs seeds from..to inclusive; fails listing each failing seed with its replay command. */
export function assertSeedsPass(from: number, to: number): void {
  const failures: string[] = [];
  for (let seed = from; seed <= to; seed++) {
    const r = runSimulation({ seed });
    if (!r.ok) {
      failures.push(`seed ${seed}: ${r.failure?.split('\n')[0]} (replay: npm run sim -- --seed ${seed} --verbose)`);
      console.log(`FAIL seed ${seed}: ${r.failure}`);
    }
  }
  assert.deepEqual(failures, [], `${failures.length} of ${to - from + 1} seeds failed`);
}

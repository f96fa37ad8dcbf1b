import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runSimulation } from './simulation.ts';

describe('simulator determinism and teeth', () => {
  it('the same seed replays the identical trace', () => {
    const a = runSimulation({ seed: 4242 });
    const b = runSimulation({ seed: 4242 });
    assert.equal(a.traceHash, b.traceHash);
    assert.deepEqual(a.stats, b.stats);
    const v1 = runSimulation({ seed: 4242, verbose: true });
    const v2 = runSimulation({ seed: 4242, verbose: true });
    assert.equal(v1.traceHash, a.traceHash, 'verbose tracing does not change the run');
    assert.deepEqual(v1.trace, v2.trace);
    assert.ok(v1.trace.length > 50);
  });

  it('different seeds give different runs', () => {
    const hashes = new Set([1, 2, 3, 4].map((seed) => runSimulation({ seed }).traceHash));
    assert.equal(hashes.size, 4);
  });

  it('runs exercise the faults they claim to', () => {
    let crashes = 0;
    let torn = 0;
    let conf = 0;
    let transfers = 0;
    let snapshots = 0;
    let unknown = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const s = runSimulation({ seed }).stats;
      crashes += s.crashes;
      torn += s.tornWrites;
      conf += s.confChanges;
      transfers += s.transfers;
      snapshots += s.snapshotsInstalled;
      unknown += s.opsUnknown;
      assert.ok(s.opsCompleted > 0);
      assert.ok(s.dropped > 0);
    }
    for (const [what, n] of Object.entries({ crashes, torn, conf, transfers, snapshots, unknown })) assert.ok(n > 0, what);
  });

  it('a failing seed is reported with its failure and replays identically', () => {
    // Disks whose fsync lies lose acknowledged state on crashes: the checks must notice.
    const failing: number[] = [];
    for (let seed = 1; seed <= 30 && failing.length < 3; seed++) {
      if (!runSimulation({ seed, lyingDisks: true }).ok) failing.push(seed);
    }
    assert.ok(failing.length >= 3, 'lost writes are detected');
    const first = runSimulation({ seed: failing[0]!, lyingDisks: true });
    const again = runSimulation({ seed: failing[0]!, lyingDisks: true });
    assert.ok(first.failure !== null && first.failure.length > 0);
    assert.equal(again.failure, first.failure);
    assert.equal(again.traceHash, first.traceHash);
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openRaftStorage } from '../../../../handler/raft/storage/index.ts';
import type { RaftStorage } from '../../../../handler/raft/storage/index.ts';
import type { Entry, HardState } from '../../../../handler/raft/types.ts';
import { describe, makeEntries, tempDir } from './helpers.ts';
import { Prng } from '../../../support/prng.ts';

/** Seeded floats in [0, 1) (test/support/prng.ts), so a failing run replays from its seed. */
function prng(seed: number): () => number {
  const p = new Prng(seed);
  return () => p.float();
}

/** The storage's contract in memory: a Raft log with a snapshot base. */
class ModelLog {
  baseIndex = 0;
  baseTerm = 0;
  entries: Entry[] = [];
  hardState: HardState = { term: 0, vote: '', commit: 0 };
  get lastIndex(): number {
    return this.baseIndex + this.entries.length;
  }
  termAt(i: number): number | undefined {
    if (i === this.baseIndex) return this.baseTerm;
    return this.entries[i - this.baseIndex - 1]?.term;
  }
  append(es: Entry[]): void {
    this.entries.length = es[0]!.index - this.baseIndex - 1;
    this.entries.push(...es);
  }
  snapshot(index: number, term: number): void {
    if (this.termAt(index) === term) this.entries = this.entries.slice(index - this.baseIndex);
    else this.entries = [];
    this.baseIndex = index;
    this.baseTerm = term;
  }
}

for (const seed of [1, 2, 3]) {
  test(`random appends, overwrites, snapshots, compactions and restarts match a model (seed ${seed})`, async () => {
    const { dir, cleanup } = await tempDir();
    const rand = prng(seed);
    const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
    const model = new ModelLog();
    let term = 1;
    const open = async () => (await openRaftStorage({ dir, segmentBytes: 4096 })).storage;
    let storage: RaftStorage = await open();
    try {
      for (let step = 0; step < 300; step++) {
        const roll = rand();
        if (roll < 0.5) {
          const floor = Math.max(model.baseIndex, model.hardState.commit);
          const start = rand() < 0.75 || model.lastIndex <= floor ? model.lastIndex + 1 : int(floor + 1, model.lastIndex);
          if (rand() < 0.2) term++;
          const es = makeEntries(start, start + int(0, 6), term, int(0, 300));
          model.append(es);
          const hs = rand() < 0.5 ? { term, vote: `h${int(1, 3)}`, commit: int(model.hardState.commit, es[0]!.index - 1) } : undefined;
          if (hs !== undefined) model.hardState = hs;
          await storage.append(es, hs);
        } else if (roll < 0.65) {
          const hs = { term, vote: '', commit: int(model.hardState.commit, Math.max(model.hardState.commit, model.lastIndex)) };
          model.hardState = hs;
          await storage.saveHardState(hs);
        } else if (roll < 0.75) {
          const index = int(model.baseIndex + 1, model.lastIndex + 3);
          const matching = rand() < 0.6 && index <= model.lastIndex;
          const snapTerm = matching ? model.termAt(index)! : ++term;
          model.snapshot(index, snapTerm);
          await storage.saveSnapshot({
            meta: { index, term: snapTerm, conf: { voters: ['h1'], learners: [], votersOutgoing: [] } },
            data: new Uint8Array([index & 0xff]),
          });
        } else if (roll < 0.85) {
          await storage.compact();
        } else {
          await storage.close();
          const reopened = await openRaftStorage({ dir, segmentBytes: 4096 });
          storage = reopened.storage;
          const r = reopened.recovered;
          assert.deepEqual(describe(r.entries), describe(model.entries), `entries at step ${step}`);
          assert.deepEqual(r.hardState, model.hardState, `hard state at step ${step}`);
          assert.equal(r.snapshot?.meta.index ?? 0, model.baseIndex, `snapshot index at step ${step}`);
          assert.equal(r.snapshot?.meta.term ?? 0, model.baseTerm, `snapshot term at step ${step}`);
        }
        assert.equal(storage.lastIndex, model.lastIndex, `lastIndex at step ${step}`);
      }
    } finally {
      await storage.close();
      await cleanup();
    }
  });
}

/**
 * A simulated disk for one node: writes land in an unsynced buffer and become durable only on
 * sync(). A crash keeps what was synced plus, sometimes, a prefix of the unsynced writes (a torn
 * last write loses the tail of the last batch), which is what recovery of a real append-only log
 * with per-record checksums yields.
 */
import type { Entry, HardState, Ready, Snapshot } from '../../../../handler/raft/types.ts';
import { emptyHardState } from '../../../../handler/raft/types.ts';
import type { StoredState } from '../../../../handler/raft/core/raft.ts';
import type { Prng } from '../../../../handler/raft/core/prng.ts';

type Write = { kind: 'snapshot'; snapshot: Snapshot } | { kind: 'entries'; entries: Entry[] } | { kind: 'hard'; hardState: HardState };

/** What survives a crash. */
interface Durable {
  hardState: HardState;
  snapshot: Snapshot | null;
  entries: Entry[];
}

/** One node's disk. */
export class SimDisk {
  private durable: Durable = { hardState: emptyHardState(), snapshot: null, entries: [] };
  private pending: Write[] = [];
  /** Highest commit index that reached stable storage (for the commit-monotonicity check). */
  syncedCommit = 0;
  tornWrites = 0;
  /** Fault injection for tests of the simulator itself: fsync returns without syncing. */
  lies = false;

  /** Queues a Ready's writes in log order: snapshot, entries, hard state. */
  write(rd: Ready): void {
    if (rd.snapshot !== null) this.pending.push({ kind: 'snapshot', snapshot: rd.snapshot });
    if (rd.entries.length > 0) this.pending.push({ kind: 'entries', entries: rd.entries });
    if (rd.hardState !== null) this.pending.push({ kind: 'hard', hardState: rd.hardState });
  }

  sync(): void {
    if (this.lies) return;
    for (const w of this.pending) this.apply(w);
    this.pending = [];
  }

  /** A local snapshot is written atomically (write, fsync, rename) and compacts the stored log. */
  saveSnapshot(snapshot: Snapshot): void {
    const d = this.durable;
    if (d.snapshot !== null && d.snapshot.meta.index >= snapshot.meta.index) return;
    d.snapshot = snapshot;
    const keep = d.entries.findIndex((e) => e.index > snapshot.meta.index);
    d.entries = keep < 0 ? [] : d.entries.slice(keep);
  }

  /** Power loss: unsynced writes are lost, except sometimes a prefix of them. */
  crash(rng: Prng): void {
    if (this.pending.length > 0 && rng.chance(0.5)) {
      this.tornWrites++;
      const keep = rng.int(this.pending.length + 1);
      for (let i = 0; i < keep; i++) {
        const w = this.pending[i]!;
        if (i === keep - 1 && w.kind === 'entries' && w.entries.length > 1) {
          // The torn record: only a prefix of the batch made it.
          this.apply({ kind: 'entries', entries: w.entries.slice(0, 1 + rng.int(w.entries.length)) });
        } else {
          this.apply(w);
        }
      }
    }
    this.pending = [];
  }

  /** What a restarting node reads back. */
  load(): StoredState {
    const d = this.durable;
    return { hardState: { ...d.hardState }, snapshot: d.snapshot, entries: d.entries.slice() };
  }

  private apply(w: Write): void {
    const d = this.durable;
    if (w.kind === 'snapshot') {
      d.snapshot = w.snapshot;
      d.entries = [];
    } else if (w.kind === 'entries') {
      const first = w.entries[0]!.index;
      const base = d.snapshot?.meta.index ?? 0;
      const cut = first - base - 1;
      if (cut < d.entries.length) d.entries = d.entries.slice(0, Math.max(0, cut));
      for (const e of w.entries) if (e.index > base) d.entries.push(e);
    } else {
      d.hardState = w.hardState;
      if (w.hardState.commit > this.syncedCommit) this.syncedCommit = w.hardState.commit;
    }
  }
}

/**
 * Follower-side reassembly of a chunked InstallSnapshot (Raft paper figure 13: offset, data,
 * done). Chunks must arrive in offset order; a gap or an unknown snapshot asks the leader to
 * resend from the offset we hold, so lost, duplicated and reordered chunks all converge.
 */
import type { Snapshot, SnapshotChunk, SnapshotMeta } from '../types.ts';

/** What the follower should do with one chunk. */
export type ChunkOutcome =
  | { kind: 'ack'; next: number }
  | { kind: 'resend'; next: number }
  | { kind: 'complete'; snapshot: Snapshot }
  | { kind: 'ignore' };

const sameSnapshot = (a: SnapshotMeta, b: SnapshotMeta): boolean => a.index === b.index && a.term === b.term;

/** Buffers one incoming snapshot at a time, bounded by `maxBytes`. */
export class SnapshotReceiver {
  private readonly maxBytes: number;
  private meta: SnapshotMeta | null = null;
  private buf = new Uint8Array(0);
  private received = 0;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  accept(chunk: SnapshotChunk): ChunkOutcome {
    const { offset, total, data } = chunk;
    if (total > this.maxBytes || offset < 0 || offset + data.length > total) return { kind: 'ignore' };
    if (this.meta === null || !sameSnapshot(this.meta, chunk.meta) || this.buf.length !== total) {
      if (offset !== 0) return { kind: 'resend', next: 0 };
      this.meta = chunk.meta;
      this.buf = new Uint8Array(total);
      this.received = 0;
    }
    if (offset > this.received) return { kind: 'resend', next: this.received };
    const end = offset + data.length;
    if (end > this.received) {
      this.buf.set(data.subarray(this.received - offset), this.received);
      this.received = end;
    }
    if (this.received === total) {
      const snapshot: Snapshot = { meta: this.meta, data: this.buf };
      this.reset();
      return { kind: 'complete', snapshot };
    }
    return { kind: 'ack', next: this.received };
  }

  reset(): void {
    this.meta = null;
    this.buf = new Uint8Array(0);
    this.received = 0;
  }
}

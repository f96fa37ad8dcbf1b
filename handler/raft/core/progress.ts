/**
 * The leader's view of one follower (etcd-io/raft tracker/progress.go and inflights.go):
 * Probe sends one AppendEntries per heartbeat until the follower's match point is found,
 * Replicate pipelines up to `maxInflight` messages, Snapshot streams snapshot chunks.
 */

/** Replication states of a follower as seen by the leader. */
export const ProgressState = {
  Probe: 'probe',
  Replicate: 'replicate',
  Snapshot: 'snapshot',
} as const;
export type ProgressState = (typeof ProgressState)[keyof typeof ProgressState];

/** A ring of the last indices of in-flight AppendEntries messages (flow control window). */
export class Inflights {
  private readonly buf: Float64Array;
  private start = 0;
  /** Messages in flight. */
  count = 0;

  constructor(capacity: number) {
    this.buf = new Float64Array(capacity);
  }

  full(): boolean {
    return this.count === this.buf.length;
  }

  add(lastIndex: number): void {
    const cap = this.buf.length;
    this.buf[(this.start + this.count) % cap] = lastIndex;
    this.count++;
  }

  /** Frees every message whose last index is <= `index` (they were acknowledged). */
  freeLE(index: number): void {
    const cap = this.buf.length;
    while (this.count > 0 && this.buf[this.start]! <= index) {
      this.start = (this.start + 1) % cap;
      this.count--;
    }
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
  }
}

/** Leader-side replication progress of one peer. */
export class Progress {
  /** Highest index known replicated on the peer. */
  match: number;
  /** Next index to send; entries in (match, next) are in flight. */
  next: number;
  state: ProgressState = ProgressState.Probe;
  /** In Probe: a probe is outstanding. In Replicate: an empty probe was sent recently. */
  paused = false;
  /** Highest commit index sent to the peer (only bumped up to next - 1). */
  sentCommit = 0;
  /** Any message heard from the peer since the last check-quorum round. */
  recentActive = false;
  isLearner: boolean;
  readonly inflights: Inflights;
  /** Snapshot state: index of the snapshot being streamed. */
  pendingSnapshot = 0;
  /** Snapshot state: next byte offset to send, highest offset acknowledged, ack at the last check. */
  snapOffset = 0;
  snapAcked = 0;
  snapAckedAtLastCheck = -1;
  /** Snapshot state: every chunk up to the end has been sent since the last rewind. */
  snapSentAll = false;
  /** Snapshot state: heartbeats since the acknowledged offset last moved. */
  snapIdleBeats = 0;

  constructor(next: number, maxInflight: number, isLearner: boolean) {
    this.match = 0;
    this.next = next;
    this.isLearner = isLearner;
    this.inflights = new Inflights(maxInflight);
  }

  private resetState(state: ProgressState): void {
    this.paused = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === ProgressState.Snapshot) {
      const pending = this.pendingSnapshot;
      this.resetState(ProgressState.Probe);
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState(ProgressState.Probe);
      this.next = this.match + 1;
    }
    this.sentCommit = Math.min(this.sentCommit, this.next - 1);
  }

  becomeReplicate(): void {
    this.resetState(ProgressState.Replicate);
    this.next = this.match + 1;
    this.sentCommit = Math.min(this.sentCommit, this.match);
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState(ProgressState.Snapshot);
    this.pendingSnapshot = snapshotIndex;
    this.snapOffset = 0;
    this.snapAcked = 0;
    this.snapAckedAtLastCheck = -1;
    this.snapSentAll = false;
    this.snapIdleBeats = 0;
  }

  /** An AppendResp acknowledged `index`; false when it is stale (no new information). */
  maybeUpdate(index: number): boolean {
    if (index <= this.match) return false;
    this.match = index;
    if (this.next < index + 1) this.next = index + 1;
    return true;
  }

  /**
   * An AppendResp rejected the append at `rejected`; `matchHint` is where the logs may match.
   * False when the rejection is stale (reordered or duplicated).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      this.sentCommit = Math.min(this.sentCommit, this.match);
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.sentCommit = Math.min(this.sentCommit, this.next - 1);
    this.paused = false;
    return true;
  }

  /** Records an AppendEntries carrying `count` entries ending at `lastIndex` and commit `commit`. */
  sentEntries(count: number, lastIndex: number, commit: number): void {
    if (this.state === ProgressState.Replicate && count > 0) {
      this.next = lastIndex + 1;
      this.inflights.add(lastIndex);
    }
    this.paused = true;
    this.sentCommit = Math.min(Math.max(this.sentCommit, commit), this.next - 1);
  }

  /** Sending `commit` could advance the peer's commit index. */
  canBumpCommit(commit: number): boolean {
    return this.sentCommit < Math.min(commit, this.next - 1);
  }
}

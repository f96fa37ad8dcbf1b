/**
 * The in-memory Raft log: a compacted prefix described by (snapIndex, snapTerm) and the entries
 * after it in one array (entries[k].index === snapIndex + 1 + k), so lookups are O(1) and
 * appends amortized O(1) (etcd-io/raft log.go + log_unstable.go folded into one structure;
 * the driver persists what `unstable()` returns and reports it through `stableTo`).
 */
import type { Entry } from '../types.ts';
import { codedError, ErrorCode } from '../../../shared/errors.ts';

/** Bytes counted per entry beyond its data, for batching limits (term, index, type, framing). */
export const ENTRY_OVERHEAD = 24;

/** The size an entry counts for in message and apply batching limits. */
export function entrySize(e: Entry): number {
  return e.data.byteLength + ENTRY_OVERHEAD;
}

/** The log as the core sees it: compacted boundary, entries, commit/apply/stable marks. */
export class RaftLog {
  /** Index of the last entry covered by the snapshot (compacted away). */
  snapIndex: number;
  /** Term of the entry at snapIndex. */
  snapTerm: number;
  /** Highest index known committed. */
  committed: number;
  /** Highest index the driver has applied (reported through advance()). */
  applied: number;
  /** Highest index handed to the driver as committed entries (applied <= applying). */
  applying: number;
  /** Highest index known durable on the driver's disk. */
  stabled: number;
  /** Lowest index truncated since the outstanding Ready was handed out (Infinity if none). */
  truncatedFrom = Infinity;
  private ents: Entry[];

  constructor(snapIndex: number, snapTerm: number, entries: Entry[], committed: number, applied: number) {
    this.snapIndex = snapIndex;
    this.snapTerm = snapTerm;
    this.ents = entries;
    for (let k = 0; k < entries.length; k++) {
      if (entries[k]!.index !== snapIndex + 1 + k) {
        throw codedError(RangeError, ErrorCode.STORAGE_CORRUPT, `Stored entries must be contiguous after index ${snapIndex}`);
      }
    }
    const last = this.lastIndex();
    if (committed > last) {
      throw codedError(RangeError, ErrorCode.STORAGE_CORRUPT, `Stored commit ${committed} is beyond the last index ${last}`);
    }
    // A snapshot only ever holds committed state; the hard state's commit may lag it when the
    // snapshot file reached disk before a commit-only hard state write did.
    this.committed = Math.max(committed, snapIndex);
    this.applied = Math.min(Math.max(applied, snapIndex), this.committed);
    this.applying = this.applied;
    this.stabled = last;
  }

  firstIndex(): number {
    return this.snapIndex + 1;
  }

  lastIndex(): number {
    return this.snapIndex + this.ents.length;
  }

  lastTerm(): number {
    const n = this.ents.length;
    return n === 0 ? this.snapTerm : this.ents[n - 1]!.term;
  }

  /** The term at `index`, or undefined when it is compacted away or beyond the last entry. */
  term(index: number): number | undefined {
    if (index === this.snapIndex) return this.snapTerm;
    if (index < this.snapIndex || index > this.lastIndex()) return undefined;
    return this.ents[index - this.snapIndex - 1]!.term;
  }

  /** The entry at `index`, if present in memory. */
  entry(index: number): Entry | undefined {
    if (index <= this.snapIndex) return undefined;
    return this.ents[index - this.snapIndex - 1];
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Raft paper 5.4.1: a candidate's log is at least as up-to-date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const t = this.lastTerm();
    return lastTerm > t || (lastTerm === t && lastIndex >= this.lastIndex());
  }

  /** Leader append: entries must start at lastIndex() + 1. */
  append(entries: Entry[]): void {
    const ents = this.ents;
    for (let i = 0; i < entries.length; i++) ents.push(entries[i]!);
  }

  /**
   * Follower append (AppendEntries receiver rules 2-5): returns the index of the last new entry,
   * or -1 when (prevIndex, prevTerm) does not match.
   */
  maybeAppend(prevIndex: number, prevTerm: number, commit: number, entries: Entry[]): number {
    if (!this.matchTerm(prevIndex, prevTerm)) return -1;
    const lastNew = prevIndex + entries.length;
    const conflict = this.findConflict(entries);
    if (conflict !== 0) {
      if (conflict <= this.committed) {
        throw codedError(Error, ErrorCode.PROTOCOL, `Entry ${conflict} conflicts with the committed prefix up to ${this.committed}`);
      }
      this.truncateAndAppend(entries, conflict - entries[0]!.index);
    }
    this.commitTo(Math.min(commit, lastNew));
    return lastNew;
  }

  /** First index in `entries` whose term differs from ours or that we lack; 0 if all match. */
  private findConflict(entries: Entry[]): number {
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  private truncateAndAppend(entries: Entry[], from: number): void {
    const first = entries[from]!.index;
    if (first <= this.lastIndex()) {
      this.ents.length = first - this.snapIndex - 1;
      if (this.stabled >= first) this.stabled = first - 1;
      if (first < this.truncatedFrom) this.truncatedFrom = first;
    }
    const ents = this.ents;
    for (let i = from; i < entries.length; i++) ents.push(entries[i]!);
  }

  /**
   * The largest index <= `index` whose term is <= `term`, with that term (etcd findConflictByTerm):
   * lets a rejection skip a whole divergent term at once instead of probing entry by entry.
   */
  findConflictByTerm(index: number, term: number): [number, number] {
    let i = Math.min(index, this.lastIndex());
    for (; i > this.snapIndex; i--) {
      const t = this.ents[i - this.snapIndex - 1]!.term;
      if (t <= term) return [i, t];
    }
    return [this.snapIndex, this.snapTerm];
  }

  /** Entries lo..hi inclusive, cut at `maxBytes` but always at least one. */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo > hi) return [];
    const ents = this.ents;
    const base = this.snapIndex + 1;
    let end = lo - base;
    let size = 0;
    for (; end <= hi - base; end++) {
      size += entrySize(ents[end]!);
      if (size > maxBytes && end > lo - base) break;
    }
    return ents.slice(lo - base, end);
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    if (index > this.lastIndex()) {
      // The leader only sends a commit index we acknowledged: our log lost durable entries
      // (etcd panics here with "was the raft log corrupted, truncated, or lost?").
      throw codedError(RangeError, ErrorCode.STORAGE_CORRUPT, `Commit ${index} is beyond the last index ${this.lastIndex()}: acknowledged entries were lost`);
    }
    this.committed = index;
  }

  /** Entries not yet known durable. */
  unstable(): Entry[] {
    const from = Math.max(this.stabled, this.snapIndex) - this.snapIndex;
    return from >= this.ents.length ? [] : this.ents.slice(from);
  }

  hasNextCommitted(): boolean {
    return this.committed > this.applying;
  }

  /** Committed entries not yet handed out, cut at `maxBytes` but at least one; marks them applying. */
  nextCommitted(maxBytes: number): Entry[] {
    if (this.committed <= this.applying) return [];
    const out = this.slice(this.applying + 1, this.committed, maxBytes);
    this.applying += out.length;
    return out;
  }

  /** Records that the entries of a Ready ending at `lastIndex` are durable. */
  stableTo(lastIndex: number): void {
    const upTo = Math.min(lastIndex, this.truncatedFrom - 1, this.lastIndex());
    if (upTo > this.stabled) this.stabled = upTo;
  }

  /** Replaces the whole log with a snapshot boundary (InstallSnapshot, Raft paper 7). */
  restore(index: number, term: number): void {
    this.ents = [];
    this.snapIndex = index;
    this.snapTerm = term;
    this.committed = index;
    this.applied = index;
    this.applying = index;
    this.stabled = index;
    if (index + 1 < this.truncatedFrom) this.truncatedFrom = index + 1;
  }

  /** Drops entries up to `index` (which must be applied) from memory. */
  compact(index: number): void {
    if (index <= this.snapIndex) return;
    if (index > this.applied) {
      throw codedError(RangeError, ErrorCode.PROTOCOL, `Compaction index ${index} is beyond the applied index ${this.applied}`);
    }
    const term = this.term(index)!;
    this.ents.splice(0, index - this.snapIndex);
    this.snapIndex = index;
    this.snapTerm = term;
  }
}

/**
 * Safety properties checked while the simulation runs (Raft paper figure 3 plus the client's
 * view): election safety, log matching, leader completeness, state machine safety, monotonic
 * commit, durability of acknowledged writes. Each check throws InvariantViolation at once, so
 * the failing step is the last line of the trace.
 */
import type { Entry, NodeId, Snapshot } from '../../../../handler/raft/types.ts';

/** A broken safety property. */
export class InvariantViolation extends Error {
  readonly invariant: string;
  constructor(invariant: string, detail: string) {
    super(`${invariant}: ${detail}`);
    this.name = 'InvariantViolation';
    this.invariant = invariant;
  }
}

/** FNV-1a over the entry's type and data: identity of an entry's content. */
export function entryHash(e: Entry): number {
  let h = 0x811c9dc5 ^ e.type;
  h = Math.imul(h, 0x01000193);
  const d = e.data;
  for (let i = 0; i < d.length; i++) {
    h ^= d[i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** What the checker needs to read from a node's in-memory log. */
export interface LogView {
  termAt(index: number): number | undefined;
  entryAt(index: number): Entry | undefined;
}

interface EntryRecord {
  hash: number;
  prevTerm: number;
}

/** Cluster-wide registries fed by the simulated drivers. */
export class Invariants {
  /** term -> the one node that led it. */
  private readonly leaders = new Map<number, NodeId>();
  /** index -> (term -> content and previous term): log matching by induction over (index, term). */
  private readonly logs: (Map<number, EntryRecord> | undefined)[] = [];
  /** index -> committed (term, hash) as first seen by any node. */
  private readonly committed: ({ term: number; hash: number } | undefined)[] = [];
  private maxCommitted = 0;
  /** index -> hash of what state machines applied there. */
  private readonly applied: (number | undefined)[] = [];
  /** snapshot index -> hash of its data. */
  private readonly snapshots = new Map<number, number>();
  /** node -> highest commit seen in its current life. */
  private readonly commitSeen = new Map<NodeId, number>();
  /** Writes acknowledged to clients: index and entry hash. */
  readonly acked: { index: number; term: number; hash: number }[] = [];
  checks = 0;

  /** Election safety: at most one leader per term. */
  leaderElected(node: NodeId, term: number, log: LogView, firstIndex: number): void {
    this.checks++;
    const prev = this.leaders.get(term);
    if (prev !== undefined && prev !== node) {
      throw new InvariantViolation('election safety', `${prev} and ${node} both led term ${term}`);
    }
    this.leaders.set(term, node);
    // Leader completeness: every entry committed so far (necessarily in an earlier term) is here.
    for (let i = Math.max(firstIndex, 1); i <= this.maxCommitted; i++) {
      const c = this.committed[i];
      if (c === undefined) continue;
      const t = log.termAt(i);
      if (t !== c.term) {
        throw new InvariantViolation('leader completeness', `leader ${node} of term ${term} has term ${t} at committed index ${i} (term ${c.term})`);
      }
    }
  }

  /** Log matching: the same (index, term) always has the same content and the same predecessor term. */
  entriesPersisted(node: NodeId, entries: readonly Entry[], prevTerm: number): void {
    this.checks++;
    let pt = prevTerm;
    for (const e of entries) {
      let byTerm = this.logs[e.index];
      if (byTerm === undefined) this.logs[e.index] = byTerm = new Map();
      const rec = byTerm.get(e.term);
      const hash = entryHash(e);
      if (rec === undefined) byTerm.set(e.term, { hash, prevTerm: pt });
      else if (rec.hash !== hash || rec.prevTerm !== pt) {
        throw new InvariantViolation('log matching', `${node} has a different entry or predecessor at index ${e.index} term ${e.term}`);
      }
      pt = e.term;
    }
  }

  /** Commit monotonicity and the committed registry; `from` is exclusive. */
  commitAdvanced(node: NodeId, commit: number, log: LogView): void {
    this.checks++;
    const seen = this.commitSeen.get(node) ?? 0;
    if (commit < seen) throw new InvariantViolation('commit monotonicity', `${node} commit went from ${seen} to ${commit}`);
    for (let i = seen + 1; i <= commit; i++) {
      const e = log.entryAt(i);
      if (e === undefined) continue;
      const c = this.committed[i];
      const hash = entryHash(e);
      if (c === undefined) this.committed[i] = { term: e.term, hash };
      else if (c.term !== e.term || c.hash !== hash) {
        throw new InvariantViolation('committed entry changed', `${node} committed index ${i} term ${e.term}, earlier term ${c.term}`);
      }
    }
    if (commit > this.maxCommitted) this.maxCommitted = commit;
    this.commitSeen.set(node, commit);
  }

  /**
   * A restart: commit must not fall below what reached stable storage, and the committed
   * entries read back from disk must be the ones the cluster committed.
   */
  restarted(node: NodeId, commit: number, syncedCommit: number, firstIndex: number, log: LogView): void {
    this.checks++;
    if (commit < syncedCommit) {
      throw new InvariantViolation('commit monotonicity', `${node} restarted with commit ${commit} below synced ${syncedCommit}`);
    }
    this.commitSeen.set(node, firstIndex - 1);
    this.commitAdvanced(node, commit, log);
  }

  /** State machine safety: no two nodes apply different entries at one index. */
  entryApplied(node: NodeId, e: Entry): void {
    const hash = entryHash(e);
    const prev = this.applied[e.index];
    if (prev === undefined) this.applied[e.index] = hash;
    else if (prev !== hash) throw new InvariantViolation('state machine safety', `${node} applied a different entry at index ${e.index}`);
    const c = this.committed[e.index];
    if (c !== undefined && c.hash !== hash) {
      throw new InvariantViolation('state machine safety', `${node} applied an uncommitted entry at index ${e.index}`);
    }
  }

  /** Snapshots at one index hold the same state, and agree with the committed log. */
  snapshotSeen(node: NodeId, s: Snapshot): void {
    this.checks++;
    const hash = entryHash({ term: 0, index: 0, type: 0, data: s.data });
    const prev = this.snapshots.get(s.meta.index);
    if (prev === undefined) this.snapshots.set(s.meta.index, hash);
    else if (prev !== hash) throw new InvariantViolation('state machine safety', `${node} has a different snapshot at index ${s.meta.index}`);
    const c = this.committed[s.meta.index];
    if (c !== undefined && c.term !== s.meta.term) {
      throw new InvariantViolation('state machine safety', `${node} snapshot at ${s.meta.index} has term ${s.meta.term}, committed ${c.term}`);
    }
  }

  /** A write reported done to a client must be committed. */
  writeAcked(node: NodeId, e: Entry): void {
    this.checks++;
    const c = this.committed[e.index];
    const hash = entryHash(e);
    if (c === undefined || c.hash !== hash) {
      throw new InvariantViolation('acknowledged write durability', `${node} acknowledged index ${e.index} which is not committed`);
    }
    this.acked.push({ index: e.index, term: e.term, hash });
  }

  /**
   * Every acknowledged write is still in a node's log (or below its snapshot). A leader must
   * hold all of them (`complete`); a follower may simply not have received the newest yet.
   */
  checkAckedIn(node: NodeId, log: LogView, firstIndex: number, lastIndex: number, complete: boolean): void {
    this.checks++;
    for (const a of this.acked) {
      if (a.index < firstIndex || (a.index > lastIndex && !complete)) continue;
      const e = log.entryAt(a.index);
      if (a.index > lastIndex || e === undefined || e.term !== a.term || entryHash(e) !== a.hash) {
        throw new InvariantViolation('acknowledged write durability', `${node} lost acknowledged index ${a.index}`);
      }
    }
  }

  /** Terms that had a leader. */
  get leaderCount(): number {
    return this.leaders.size;
  }

  get highestCommitted(): number {
    return this.maxCommitted;
  }
}

/**
 * The apply side of a node: feeds committed entries to the state machine in log order,
 * decodes the driver's own entries (member URLs), settles the callers waiting for them, and
 * installs snapshots. Owns the applied index and the replicated member URLs.
 */
import { decodeConfChange } from '../core/index.ts';
import { errorFields, type RaftLogger } from '../transport/logger.ts';
import type { ConfChange, Entry, NodeId, Snapshot } from '../types.ts';
import { ConfChangeType, EntryType } from '../types.ts';
import type { ChangeWaiters } from './change-waiters.ts';
import { decodeEntry, decodeSnapshotData, encodeSnapshotData, sameTag } from './envelope.ts';
import type { RaftStateMachine } from './options.ts';
import type { Proposals } from './proposals.ts';
import type { ReadTracker } from './read-tracker.ts';

/** What the applier tells the rest of the node. */
export interface ApplierContext<R> {
  readonly id: NodeId;
  readonly tag: Uint8Array;
  readonly machine: RaftStateMachine<R>;
  readonly proposals: Proposals;
  readonly reads: ReadTracker;
  readonly changes: ChangeWaiters;
  readonly logger: RaftLogger;
  /** A member's URL changed (or appeared). */
  peerChanged(id: NodeId): void;
  /** A member left the configuration. */
  peerRemoved(id: NodeId): void;
}

/** Applies committed entries and snapshots. */
export class Applier<R> {
  readonly #c: ApplierContext<R>;
  /** Index of the last entry applied (or covered by the installed snapshot). */
  applied: number;
  /** Member URLs replicated through the log; they go into snapshots. */
  members: Map<NodeId, string>;
  entriesApplied = 0;
  snapshotsInstalled = 0;

  /** Starts from a recovered snapshot (restoring the state machine) or from nothing. */
  constructor(c: ApplierContext<R>, snapshot: Snapshot | null) {
    this.#c = c;
    this.applied = snapshot?.meta.index ?? 0;
    this.members = new Map();
    if (snapshot !== null) {
      const { members, machine } = decodeSnapshotData(snapshot.data);
      c.machine.restore(machine);
      this.members = members;
    }
  }

  /** Applies entries in order; entries at or below the applied index are skipped. */
  apply(entries: readonly Entry[]): void {
    const changes = this.#c.changes;
    for (const e of entries) {
      if (e.index <= this.applied) continue;
      if (e.type === EntryType.ConfChange) this.#conf(e);
      else this.#normal(e);
      this.applied = e.index;
      this.entriesApplied++;
      if (changes.size > 0) changes.onApplied(e);
    }
    this.#c.reads.onApplied(this.applied);
  }

  #normal(e: Entry): void {
    const c = this.#c;
    const d = decodeEntry(e.data);
    const mine = (d.kind === 'command' || d.kind === 'member') && sameTag(d.tag, c.tag);
    c.proposals.onApply(e.index, mine ? d.seq : undefined);
    switch (d.kind) {
      case 'noop':
        return;
      case 'command': {
        let result: R;
        try {
          result = c.machine.apply(e.index, d.command);
        } catch (err) {
          // apply() must not throw; if it does, every replica threw the same way on this entry.
          c.logger.error({ index: e.index, ...errorFields(err) }, 'State machine apply threw');
          if (mine) c.proposals.reject(d.seq, err instanceof Error ? err : new Error(String(err)));
          return;
        }
        if (mine) c.proposals.resolve(d.seq, result);
        return;
      }
      case 'member':
        this.members.set(d.id, d.url);
        c.peerChanged(d.id);
        if (mine) c.proposals.resolve(d.seq, undefined);
        return;
      case 'invalid':
        c.logger.warn({ index: e.index, ...errorFields(d.error) }, 'Raft entry skipped: not a driver entry');
        return;
    }
  }

  #conf(e: Entry): void {
    const c = this.#c;
    c.proposals.onApply(e.index, undefined);
    let cc: ConfChange;
    try {
      cc = decodeConfChange(e.data);
    } catch (err) {
      c.logger.warn({ index: e.index, ...errorFields(err) }, 'Raft conf change entry is malformed');
      return;
    }
    const change = cc.type === ConfChangeType.AddNode ? 'add-voter' : cc.type === ConfChangeType.AddLearner ? 'add-learner' : 'remove';
    c.logger.info({ index: e.index, change, member: cc.node }, 'Raft membership changed');
    if (cc.type !== ConfChangeType.RemoveNode) return;
    this.members.delete(cc.node);
    if (cc.node === c.id) c.logger.warn({}, 'This node was removed from the raft cluster');
    else c.peerRemoved(cc.node);
  }

  /** Installs a snapshot received from the leader (already durable). */
  install(s: Snapshot): void {
    const c = this.#c;
    const { members, machine } = decodeSnapshotData(s.data);
    c.machine.restore(machine);
    this.members = members;
    for (const id of members.keys()) c.peerChanged(id);
    this.applied = s.meta.index;
    this.snapshotsInstalled++;
    c.proposals.onSnapshot(s.meta.index);
    c.changes.onSnapshot(s.meta.index);
    c.reads.onApplied(this.applied);
    c.logger.info({ index: s.meta.index, term: s.meta.term, bytes: s.data.length }, 'Raft snapshot installed from the leader');
  }

  /** Snapshot data of everything applied: member URLs and the state machine's snapshot. */
  snapshotData(): Uint8Array {
    return encodeSnapshotData(this.members, this.#c.machine.snapshot());
  }
}

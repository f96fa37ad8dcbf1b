/**
 * The pure Raft state machine, shaped like etcd-io/raft (raft.go + rawnode.go): the driver feeds
 * it messages (step), clock ticks (tick) and requests (propose, readIndex, proposeConfChange,
 * transferLeader), then drains a Ready (what to persist, send and apply) and acknowledges it
 * with advance(). No timers, I/O or ambient randomness: the same inputs give the same outputs.
 */
import type { ConfChange, ConfState, Entry, NodeId, Ready, Snapshot, SoftState } from '../types.ts';
import { EntryType, MessageType, Role } from '../types.ts';
import { codedError, ErrorCode } from '../../../shared/errors.ts';
import type { RaftConfig } from './config.ts';
import type { ProgressState } from './progress.ts';
import { applyConfChange, cloneConfState, decodeConfChange, encodeConfChange } from './conf.ts';
import { newMessage } from './messages.ts';
import type { StoredState } from './startup.ts';
import { RaftProtocol, sameHard } from './protocol.ts';

/** A follower's replication state, as reported by status() on the leader. */
export interface ProgressStatus {
  match: number;
  next: number;
  state: ProgressState;
  recentActive: boolean;
  isLearner: boolean;
  inflight: number;
}

/** A point-in-time view of the node (copies; safe to keep). */
export interface RaftStatus {
  id: NodeId;
  role: Role;
  term: number;
  vote: NodeId;
  lead: NodeId;
  commit: number;
  applied: number;
  firstIndex: number;
  lastIndex: number;
  conf: ConfState;
  leadTransferee: NodeId;
  /** Per-member progress, only on the leader. */
  progress: Map<NodeId, ProgressStatus> | null;
}

export type { StoredState } from './startup.ts';

/** The Raft consensus engine for one node: the driver-facing API over RaftProtocol. */
export class RaftCore extends RaftProtocol {
  /** Starts from what the driver recovered (or bootstraps a founding member when empty). */
  constructor(config: RaftConfig, stored?: StoredState) {
    super(config, stored);
  }

  /** Advances the logical clock by one tick (elections, heartbeats, check-quorum). */
  tick(): void {
    if (this.role === Role.Leader) this.tickLeader();
    else this.tickElection();
  }

  /** Starts an election now (pre-vote first when enabled), as if the election timer fired. */
  campaign(): void {
    this.hup(false);
  }

  /**
   * Campaigns now, and returns true, when this node knows no leader and is the only voter of
   * the newest membership its log holds, applied or not: nobody else's vote is needed. A node
   * whose log adds another voter anywhere (say a restarted founder whose saved commit index
   * lags its log) waits for its election timer like any member, so it hears from a leader
   * first. The core still refuses while a committed conf change waits to be applied.
   */
  campaignIfSoleVoter(): boolean {
    if (this.role === Role.Leader || this.lead !== '') return false;
    let conf = this.conf;
    for (let i = Math.max(this.confAppliedTo, this.log.applied) + 1; i <= this.log.lastIndex(); i++) {
      const e = this.log.entry(i);
      if (e?.type === EntryType.ConfChange) conf = applyConfChange(conf, decodeConfChange(e.data));
    }
    if (conf.voters.length !== 1 || conf.voters[0] !== this.id) return false;
    this.hup(false);
    return true;
  }

  /**
   * Proposes an application command. On the leader it is appended at once; on a follower it is
   * forwarded to the known leader. Throws NOT_LEADER without a known leader, PROPOSAL_DROPPED
   * during a leadership transfer or past maxUncommittedBytes.
   */
  propose(data: Uint8Array): void {
    if (this.role === Role.Leader) {
      this.appendProposals([{ term: 0, index: 0, type: EntryType.Normal, data }]);
      return;
    }
    if (this.lead === '' || !this.cfg.forwardProposals) {
      throw codedError(Error, ErrorCode.NOT_LEADER, `Node ${this.id} is not the leader and knows no leader`);
    }
    const m = newMessage(MessageType.Propose, this.id, this.lead, 0);
    m.entries = [{ term: 0, index: 0, type: EntryType.Normal, data }];
    this.send(m);
  }

  /**
   * Proposes one membership change (leader only). Rejected with CONF_CHANGE_REJECTED while an
   * earlier change is unapplied or before the leader committed an entry of its own term
   * (the single-server change safety rule, Ongaro's raft-dev post of 2015).
   */
  proposeConfChange(cc: ConfChange): void {
    if (this.role !== Role.Leader) {
      throw codedError(Error, ErrorCode.NOT_LEADER, `Node ${this.id} is not the leader`);
    }
    if (this.pendingConfIndex > this.log.applied) {
      throw codedError(Error, ErrorCode.CONF_CHANGE_REJECTED, `A conf change at index ${this.pendingConfIndex} is not applied yet`);
    }
    if (!this.committedInCurrentTerm()) {
      throw codedError(Error, ErrorCode.CONF_CHANGE_REJECTED, 'The leader has not committed an entry of its term yet');
    }
    if (applyConfChange(this.conf, cc).voters.length === 0) {
      throw codedError(RangeError, ErrorCode.CONF_CHANGE_REJECTED, `Conf change on ${cc.node} would leave no voters`);
    }
    this.appendProposals([{ term: 0, index: 0, type: EntryType.ConfChange, data: encodeConfChange(cc) }]);
    this.pendingConfIndex = this.log.lastIndex();
  }

  /**
   * Requests a linearizable read point identified by `context` (unique per request). The answer
   * arrives as a ReadState in a later Ready; it may be lost with leader changes (retry on timeout).
   */
  readIndex(context: Uint8Array): void {
    if (this.role === Role.Leader) {
      this.reads.request(this.id, context);
      return;
    }
    if (this.lead === '') {
      throw codedError(Error, ErrorCode.NOT_LEADER, `Node ${this.id} knows no leader to confirm a read`);
    }
    const m = newMessage(MessageType.ReadIndex, this.id, this.lead, 0);
    m.context = context;
    this.send(m);
  }

  /** Hands leadership to voter `to` (Raft thesis 3.10): catch it up, then send TimeoutNow. */
  transferLeader(to: NodeId): void {
    if (this.role !== Role.Leader) {
      throw codedError(Error, ErrorCode.NOT_LEADER, `Node ${this.id} is not the leader`);
    }
    if (to === this.id) return;
    const pr = this.repl.progress.get(to);
    if (pr === undefined || pr.isLearner) {
      throw codedError(RangeError, ErrorCode.TRANSFER_REJECTED, `Leadership can only move to a voter, ${to} is not one`);
    }
    if (this.leadTransferee === to) return;
    this.leadTransferee = to;
    this.electionElapsed = 0;
    if (pr.match === this.log.lastIndex()) this.repl.sendTimeoutNow(to);
    else this.repl.sendAppends(to, pr);
  }

  /** True when ready() would return something to do. False while a Ready is outstanding. */
  hasReady(): boolean {
    if (this.outstanding !== null) return false;
    return (
      this.needsBroadcast ||
      this.reads.heartbeatDue ||
      this.msgs.length > 0 ||
      this.msgsAfterPersist.length > 0 ||
      this.readStates.length > 0 ||
      this.snapshotToInstall !== null ||
      this.log.stabled < this.log.lastIndex() ||
      this.log.hasNextCommitted() ||
      this.lead !== this.prevSoft.lead ||
      this.role !== this.prevSoft.role ||
      !sameHard(this.hardState(), this.prevHard)
    );
  }

  /** Collects the work for the driver; call advance() once it is done. One Ready at a time. */
  ready(): Ready {
    if (this.outstanding !== null) {
      throw codedError(Error, ErrorCode.PROTOCOL, 'ready() called again before advance()');
    }
    this.flushBroadcast();
    const soft: SoftState = { lead: this.lead, role: this.role };
    const softChanged = soft.lead !== this.prevSoft.lead || soft.role !== this.prevSoft.role;
    this.prevSoft = soft;
    const hs = this.hardState();
    const hardChanged = !sameHard(hs, this.prevHard);
    const termOrVoteChanged = hs.term !== this.prevHard.term || hs.vote !== this.prevHard.vote;
    this.prevHard = hs;
    const entries = this.log.unstable();
    const snapshot = this.snapshotToInstall;
    this.snapshotToInstall = null;
    const committedEntries = this.log.nextCommitted(this.cfg.maxCommittedBytesPerReady);
    const rd: Ready = {
      softState: softChanged ? soft : null,
      hardState: hardChanged ? hs : null,
      entries,
      snapshot,
      committedEntries,
      readStates: this.readStates,
      messages: this.msgs,
      messagesAfterPersist: this.msgsAfterPersist,
      mustSync: termOrVoteChanged || entries.length > 0 || snapshot !== null,
    };
    this.readStates = [];
    this.msgs = [];
    this.msgsAfterPersist = [];
    this.log.truncatedFrom = Infinity;
    this.outstanding = {
      lastEntry: entries.length > 0 ? entries[entries.length - 1]!.index : -1,
      hardState: hardChanged ? hs : null,
      committedTo: this.log.applying,
    };
    return rd;
  }

  /**
   * Acknowledges the last Ready: its writes are durable and its committed entries applied.
   * Membership changes among those entries take effect here.
   */
  advance(): void {
    const o = this.outstanding;
    if (o === null) throw codedError(Error, ErrorCode.PROTOCOL, 'advance() called without an outstanding ready()');
    this.outstanding = null;
    if (o.lastEntry >= 0) this.log.stableTo(o.lastEntry);
    if (o.hardState !== null) this.durableHard = o.hardState;
    if (o.committedTo > this.log.applied) this.appliedTo(o.committedTo);
    if (this.role === Role.Leader) {
      const self = this.repl.progress.get(this.id);
      if (self !== undefined && self.maybeUpdate(this.log.stabled) && this.maybeCommit()) this.needsBroadcast = true;
    }
  }

  /**
   * Records a state-machine snapshot of everything applied so far (call between advance() and
   * the next ready()); keeps it to stream to lagging followers and compacts the in-memory log,
   * keeping `compactionMargin` entries. Returns the snapshot for the driver to persist, or null
   * when there is nothing new (applied is not past the latest snapshot) or when a snapshot
   * received from the leader is waiting in the next Ready (the state machine is then behind
   * the core's applied index; try again after that Ready).
   */
  takeSnapshot(data: Uint8Array): Snapshot | null {
    if (this.outstanding !== null) {
      throw codedError(Error, ErrorCode.PROTOCOL, 'takeSnapshot() must not be called while a Ready is outstanding');
    }
    if (this.snapshotToInstall !== null) return null;
    const index = this.log.applied;
    if (index <= (this.snapshot?.meta.index ?? 0)) return null;
    const snap: Snapshot = { meta: { index, term: this.log.term(index)!, conf: cloneConfState(this.conf) }, data };
    this.snapshot = snap;
    this.log.compact(Math.max(this.log.snapIndex, index - this.cfg.compactionMargin));
    return snap;
  }

  /** A copy of the node's current state. */
  status(): RaftStatus {
    let progress: Map<NodeId, ProgressStatus> | null = null;
    if (this.role === Role.Leader) {
      progress = new Map();
      for (const [id, pr] of this.repl.progress) {
        progress.set(id, {
          match: pr.match,
          next: pr.next,
          state: pr.state,
          recentActive: pr.recentActive,
          isLearner: pr.isLearner,
          inflight: pr.inflights.count,
        });
      }
    }
    return {
      id: this.id,
      role: this.role,
      term: this.term,
      vote: this.vote,
      lead: this.lead,
      commit: this.log.committed,
      applied: this.log.applied,
      firstIndex: this.log.firstIndex(),
      lastIndex: this.log.lastIndex(),
      conf: cloneConfState(this.conf),
      leadTransferee: this.leadTransferee,
      progress,
    };
  }

  /** The in-memory entry at `index` (undefined when compacted or absent); do not mutate it. */
  entryAt(index: number): Entry | undefined {
    return this.log.entry(index);
  }

  /** The term of the entry at `index`, including the snapshot boundary; undefined if unknown. */
  termAt(index: number): number | undefined {
    return this.log.term(index);
  }
}

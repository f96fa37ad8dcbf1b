/**
 * The pure Raft state machine, shaped like etcd-io/raft (raft.go + rawnode.go): the driver feeds
 * it messages (step), clock ticks (tick) and requests (propose, readIndex, proposeConfChange,
 * transferLeader), then drains a Ready (what to persist, send and apply) and acknowledges it
 * with advance(). No timers, I/O or ambient randomness: the same inputs give the same outputs.
 */
import type {
  ConfChange,
  ConfState,
  Entry,
  HardState,
  Message,
  NodeId,
  ReadState,
  Ready,
  Snapshot,
  SoftState,
} from '../types.ts';
import { ConfChangeType, EntryType, MessageType, Role, emptyHardState } from '../types.ts';
import { codedError, ErrorCode } from '../../../shared/errors.ts';
import { resolveRaftConfig, type RaftConfig, type ResolvedRaftConfig } from './config.ts';
import { RaftLog, entrySize } from './log.ts';
import { Progress, ProgressState } from './progress.ts';
import {
  applyConfChange,
  cloneConfState,
  decodeConfChange,
  encodeConfChange,
  majorityIndex,
  quorumSize,
  voteResult,
  VoteResult,
} from './conf.ts';
import { ReadOnly, type ReadRequest } from './read-only.ts';
import { SnapshotReceiver } from './snapshot-receiver.ts';
import { EMPTY, TRANSFER_CONTEXT, isTransferContext, newMessage } from './messages.ts';

/** What the driver recovered from disk; omit for a brand-new node. */
export interface StoredState {
  hardState: HardState;
  snapshot: Snapshot | null;
  /** Entries after the snapshot, in index order (entries at or below the snapshot are skipped). */
  entries: Entry[];
  /** Index the state machine is known to have applied (default: the snapshot index). */
  applied?: number;
}

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

interface Outstanding {
  lastEntry: number;
  hardState: HardState | null;
  committedTo: number;
}

const sameHard = (a: HardState, b: HardState): boolean => a.term === b.term && a.vote === b.vote && a.commit === b.commit;

/** Idle heartbeats without a snapshot ack before the leader resends from the acknowledged offset. */
const SNAPSHOT_STALL_BEATS = 3;

/** The Raft consensus engine for one node. */
export class RaftCore {
  readonly id: NodeId;
  private readonly cfg: ResolvedRaftConfig;
  private term = 0;
  private vote: NodeId = '';
  private lead: NodeId = '';
  private role: Role = Role.Follower;
  private readonly log: RaftLog;
  private conf: ConfState;
  private confAppliedTo: number;
  private progress = new Map<NodeId, Progress>();
  private readonly votes = new Map<NodeId, boolean>();
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private leadTransferee: NodeId = '';
  private pendingConfIndex = 0;
  private uncommittedBytes = 0;
  private readonly readOnly = new ReadOnly();
  private pendingReads: { from: NodeId; context: Uint8Array }[] = [];
  private readHeartbeatDue = false;
  private readStates: ReadState[] = [];
  private msgs: Message[] = [];
  private msgsAfterPersist: Message[] = [];
  private needsBroadcast = false;
  /** Latest local snapshot, streamed to followers whose next entry was compacted away. */
  private snapshot: Snapshot | null;
  private snapshotToInstall: Snapshot | null = null;
  private readonly receiver: SnapshotReceiver;
  private prevSoft: SoftState;
  private prevHard: HardState;
  private durableHard: HardState;
  private outstanding: Outstanding | null = null;

  constructor(config: RaftConfig, stored?: StoredState) {
    const cfg = resolveRaftConfig(config);
    this.cfg = cfg;
    this.id = cfg.id;
    this.receiver = new SnapshotReceiver(cfg.maxSnapshotBytes);
    let hs = stored?.hardState ?? emptyHardState();
    const snap = stored?.snapshot ?? null;
    const snapIndex = snap?.meta.index ?? 0;
    let entries = stored?.entries ?? [];
    const skip = entries.findIndex((e) => e.index > snapIndex);
    entries = skip < 0 ? [] : skip === 0 ? entries.slice() : entries.slice(skip);
    const isNew = hs.term === 0 && snap === null && entries.length === 0;
    const bootstrap = isNew && cfg.initialVoters.length > 0;
    if (bootstrap) {
      // etcd bootstrap: every founding member writes the same conf-change entries at term 1,
      // so nodes added later learn the founding membership from the log itself.
      const changes: ConfChange[] = [
        ...cfg.initialVoters.map((node) => ({ type: ConfChangeType.AddNode, node })),
        ...cfg.initialLearners.map((node) => ({ type: ConfChangeType.AddLearner, node })),
      ];
      entries = changes.map((cc, i) => ({ term: 1, index: i + 1, type: EntryType.ConfChange, data: encodeConfChange(cc) }));
      hs = { term: 1, vote: '', commit: entries.length };
    }
    this.log = new RaftLog(snapIndex, snap?.meta.term ?? 0, entries, hs.commit, stored?.applied ?? snapIndex);
    if (bootstrap) this.log.stabled = 0;
    this.snapshot = snap;
    this.conf = snap ? cloneConfState(snap.meta.conf) : { voters: [], learners: [], votersOutgoing: [] };
    for (let i = snapIndex + 1; i <= this.log.applied; i++) {
      const e = this.log.entry(i)!;
      if (e.type === EntryType.ConfChange) this.conf = applyConfChange(this.conf, decodeConfChange(e.data));
    }
    this.confAppliedTo = this.log.applied;
    this.term = hs.term;
    this.vote = hs.vote;
    this.durableHard = bootstrap ? emptyHardState() : { ...hs };
    this.prevHard = this.durableHard;
    this.becomeFollower(this.term, '');
    this.prevSoft = { lead: '', role: Role.Follower };
  }

  // ---------------------------------------------------------------- driver API

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
      this.handleReadRequest(this.id, context);
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
    const pr = this.progress.get(to);
    if (pr === undefined || pr.isLearner) {
      throw codedError(RangeError, ErrorCode.TRANSFER_REJECTED, `Leadership can only move to a voter, ${to} is not one`);
    }
    if (this.leadTransferee === to) return;
    this.leadTransferee = to;
    this.electionElapsed = 0;
    if (pr.match === this.log.lastIndex()) this.sendTimeoutNow(to);
    else this.sendAppends(to, pr);
  }

  /** Feeds one message from a peer. */
  step(m: Message): void {
    if (m.term > this.term) {
      if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
        // Leader lease (thesis 4.2.3 and 9.6): while we hear from a leader, do not let a
        // candidate bump terms, unless the leader itself asked for it (TimeoutNow).
        const inLease = this.lead !== '' && this.electionElapsed < this.cfg.electionTick;
        if (inLease && !isTransferContext(m.context) && (this.cfg.checkQuorum || m.type === MessageType.PreVote)) return;
      }
      if (m.type === MessageType.PreVote || (m.type === MessageType.PreVoteResp && !m.reject)) {
        // Pre-votes never change our term: a granted pre-vote carries the candidate's future term.
      } else {
        const fromLeader = m.type === MessageType.Append || m.type === MessageType.Heartbeat || m.type === MessageType.Snapshot;
        this.becomeFollower(m.term, fromLeader ? m.from : '');
      }
    } else if (m.term < this.term && m.term !== 0) {
      if ((this.cfg.checkQuorum || this.cfg.preVote) && (m.type === MessageType.Heartbeat || m.type === MessageType.Append)) {
        // A stale leader that cannot hear our higher-term votes (they are ignored in its lease)
        // learns the new term from this reply and steps down.
        this.send(newMessage(MessageType.AppendResp, this.id, m.from, this.term));
      } else if (m.type === MessageType.PreVote) {
        const r = newMessage(MessageType.PreVoteResp, this.id, m.from, this.term);
        r.reject = true;
        this.send(r);
      }
      return;
    }
    if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
      this.handleVoteRequest(m);
      return;
    }
    if (this.role === Role.Leader) this.stepLeader(m);
    else if (this.role === Role.Follower) this.stepFollower(m);
    else this.stepCandidate(m);
  }

  /** True when ready() would return something to do. False while a Ready is outstanding. */
  hasReady(): boolean {
    if (this.outstanding !== null) return false;
    return (
      this.needsBroadcast ||
      this.readHeartbeatDue ||
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
      const self = this.progress.get(this.id);
      if (self !== undefined && self.maybeUpdate(this.log.stabled) && this.maybeCommit()) this.needsBroadcast = true;
    }
  }

  /**
   * Records a state-machine snapshot of everything applied so far (call between advance() and
   * the next ready()); keeps it to stream to lagging followers and compacts the in-memory log,
   * keeping `compactionMargin` entries. Returns the snapshot for the driver to persist, or null
   * when a snapshot received from the leader is waiting in the next Ready: the state machine
   * is then behind the core's applied index, so try again after that Ready.
   */
  takeSnapshot(data: Uint8Array): Snapshot | null {
    if (this.outstanding !== null) {
      throw codedError(Error, ErrorCode.PROTOCOL, 'takeSnapshot() must not be called while a Ready is outstanding');
    }
    if (this.snapshotToInstall !== null) return null;
    const index = this.log.applied;
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
      for (const [id, pr] of this.progress) {
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

  // ---------------------------------------------------------------- role transitions

  private hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  private reset(term: number): void {
    if (term !== this.term) {
      this.term = term;
      this.vote = '';
    }
    this.lead = '';
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout = this.cfg.electionTick + Math.floor(this.cfg.random() * this.cfg.electionTick);
    this.leadTransferee = '';
    this.votes.clear();
    this.progress = new Map();
    this.pendingConfIndex = 0;
    this.uncommittedBytes = 0;
    this.readOnly.reset();
    this.pendingReads = [];
    this.readHeartbeatDue = false;
    this.needsBroadcast = false;
  }

  private becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.role = Role.Follower;
  }

  private becomePreCandidate(): void {
    // Pre-candidates keep term and vote (thesis 9.6); only the role and tally change.
    this.votes.clear();
    this.lead = '';
    this.role = Role.PreCandidate;
  }

  private becomeCandidate(): void {
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = Role.Candidate;
  }

  private becomeLeader(): void {
    this.reset(this.term);
    this.lead = this.id;
    this.role = Role.Leader;
    const next = this.log.lastIndex() + 1;
    for (const v of this.conf.voters) this.progress.set(v, new Progress(next, this.cfg.maxInflightMsgs, false));
    for (const l of this.conf.learners) this.progress.set(l, new Progress(next, this.cfg.maxInflightMsgs, true));
    const self = this.progress.get(this.id);
    if (self !== undefined) {
      self.maybeUpdate(this.log.stabled);
      self.becomeReplicate();
      self.recentActive = true;
    }
    // Entries from earlier terms may hide an unapplied conf change: allow no new one until
    // everything up to here is applied (etcd pendingConfIndex).
    this.pendingConfIndex = this.log.lastIndex();
    // The empty entry of the new term lets earlier entries commit (Raft paper 5.4.2, 8).
    this.appendEntries([{ term: this.term, index: next, type: EntryType.Normal, data: EMPTY }]);
  }

  private promotable(): boolean {
    return this.conf.voters.includes(this.id);
  }

  private hasUnappliedConfChange(): boolean {
    for (let i = this.log.applied + 1; i <= this.log.committed; i++) {
      if (this.log.entry(i)?.type === EntryType.ConfChange) return true;
    }
    return false;
  }

  private hup(transfer: boolean): void {
    if (this.role === Role.Leader || !this.promotable()) return;
    // A committed but unapplied conf change means our view of the voters may be stale
    // (etcd issue 7625); wait until it is applied.
    if (this.hasUnappliedConfChange()) return;
    this.startCampaign(this.cfg.preVote && !transfer, transfer);
  }

  private startCampaign(pre: boolean, transfer: boolean): void {
    if (pre) this.becomePreCandidate();
    else this.becomeCandidate();
    const voteTerm = pre ? this.term + 1 : this.term;
    if (this.poll(this.id, true) === VoteResult.Won) {
      if (pre) this.startCampaign(false, false);
      else this.becomeLeader();
      return;
    }
    const type = pre ? MessageType.PreVote : MessageType.Vote;
    for (const v of this.conf.voters) {
      if (v === this.id) continue;
      const m = newMessage(type, this.id, v, voteTerm);
      m.index = this.log.lastIndex();
      m.logTerm = this.log.lastTerm();
      if (transfer) m.context = TRANSFER_CONTEXT;
      this.send(m);
    }
  }

  private poll(from: NodeId, granted: boolean): VoteResult {
    if (!this.votes.has(from)) this.votes.set(from, granted);
    return voteResult(this.conf.voters, this.votes);
  }

  // ---------------------------------------------------------------- ticks

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTick) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum) {
        if (!this.quorumActive()) {
          this.becomeFollower(this.term, '');
          return;
        }
        for (const [id, pr] of this.progress) pr.recentActive = id === this.id;
      }
      // A transfer that did not finish within an election timeout is abandoned (thesis 3.10).
      this.leadTransferee = '';
    }
    if (this.heartbeatElapsed >= this.cfg.heartbeatTick) {
      this.heartbeatElapsed = 0;
      this.broadcastHeartbeat(this.readOnly.lastContext() ?? EMPTY);
      this.checkSnapshotStalls();
    }
  }

  private quorumActive(): boolean {
    let active = 0;
    for (const v of this.conf.voters) {
      if (v === this.id || this.progress.get(v)?.recentActive === true) active++;
    }
    return active >= quorumSize(this.conf.voters);
  }

  // ---------------------------------------------------------------- message handling

  private send(m: Message): void {
    // The leader's replication may go out before its own write (thesis 10.2.1) once its term
    // and vote are durable; anything else can depend on unpersisted state and must wait.
    const early = this.role === Role.Leader && this.durableHard.term === this.term && this.durableHard.vote === this.vote;
    if (early) this.msgs.push(m);
    else this.msgsAfterPersist.push(m);
  }

  private handleVoteRequest(m: Message): void {
    const canVote =
      this.vote === m.from ||
      (this.vote === '' && this.lead === '') ||
      (m.type === MessageType.PreVote && m.term > this.term);
    const respType = m.type === MessageType.Vote ? MessageType.VoteResp : MessageType.PreVoteResp;
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      // Reply with the request's term so a pre-candidate in our future accepts it.
      this.send(newMessage(respType, this.id, m.from, m.term));
      if (m.type === MessageType.Vote) {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      const r = newMessage(respType, this.id, m.from, this.term);
      r.reject = true;
      this.send(r);
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.Append:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppend(m);
        break;
      case MessageType.Heartbeat:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        break;
      case MessageType.Snapshot:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshotChunk(m);
        break;
      case MessageType.TimeoutNow:
        this.hup(true);
        break;
      case MessageType.ReadIndexResp:
        this.readStates.push({ index: m.index, context: m.context });
        break;
      default:
        // Forwarded proposals and reads that reach a non-leader are dropped: the requester
        // retries on timeout, and forwarding again could loop between stale views.
        break;
    }
  }

  private stepCandidate(m: Message): void {
    const myResp = this.role === Role.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
    switch (m.type) {
      case MessageType.Append:
        this.becomeFollower(m.term, m.from);
        this.handleAppend(m);
        break;
      case MessageType.Heartbeat:
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        break;
      case MessageType.Snapshot:
        this.becomeFollower(m.term, m.from);
        this.handleSnapshotChunk(m);
        break;
      case myResp: {
        const r = this.poll(m.from, !m.reject);
        if (r === VoteResult.Won) {
          if (this.role === Role.PreCandidate) this.startCampaign(false, false);
          else this.becomeLeader();
        } else if (r === VoteResult.Lost) {
          this.becomeFollower(this.term, '');
        }
        break;
      }
      case MessageType.ReadIndexResp:
        this.readStates.push({ index: m.index, context: m.context });
        break;
      default:
        break;
    }
  }

  private stepLeader(m: Message): void {
    if (m.type === MessageType.Propose) {
      const normal = m.entries.filter((e) => e.type === EntryType.Normal);
      if (normal.length === 0) return;
      try {
        this.appendProposals(normal);
      } catch {
        // Dropped like etcd's ErrProposalDropped; the proposer times out and retries.
      }
      return;
    }
    if (m.type === MessageType.ReadIndex) {
      this.handleReadRequest(m.from, m.context);
      return;
    }
    const pr = this.progress.get(m.from);
    if (pr === undefined) return;
    switch (m.type) {
      case MessageType.AppendResp:
        this.handleAppendResp(m, pr);
        break;
      case MessageType.HeartbeatResp:
        this.handleHeartbeatResp(m, pr);
        break;
      case MessageType.SnapshotResp:
        this.handleSnapshotResp(m, pr);
        break;
      default:
        break;
    }
  }

  private handleAppend(m: Message): void {
    const resp = newMessage(MessageType.AppendResp, this.id, m.from, this.term);
    if (m.index < this.log.committed) {
      resp.index = this.log.committed;
      this.send(resp);
      return;
    }
    const lastNew = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew >= 0) {
      resp.index = lastNew;
    } else {
      // Reject with a hint: the largest index whose term is <= the leader's prevLogTerm, so the
      // leader skips a whole divergent term per round trip (etcd findConflictByTerm).
      const [hintIndex, hintTerm] = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
      resp.index = m.index;
      resp.reject = true;
      resp.rejectHint = hintIndex;
      resp.logTerm = hintTerm;
    }
    this.send(resp);
  }

  private handleHeartbeat(m: Message): void {
    this.log.commitTo(m.commit);
    const resp = newMessage(MessageType.HeartbeatResp, this.id, m.from, this.term);
    resp.context = m.context;
    this.send(resp);
  }

  private handleSnapshotChunk(m: Message): void {
    const chunk = m.snapshot;
    if (chunk === null) return;
    if (chunk.meta.index <= this.log.committed) {
      const resp = newMessage(MessageType.AppendResp, this.id, m.from, this.term);
      resp.index = this.log.committed;
      this.send(resp);
      return;
    }
    const outcome = this.receiver.accept(chunk);
    if (outcome.kind === 'ignore') return;
    if (outcome.kind === 'complete') {
      const resp = newMessage(MessageType.AppendResp, this.id, m.from, this.term);
      resp.index = this.restore(outcome.snapshot) ? this.log.lastIndex() : this.log.committed;
      this.send(resp);
      return;
    }
    const resp = newMessage(MessageType.SnapshotResp, this.id, m.from, this.term);
    resp.index = chunk.meta.index;
    resp.rejectHint = outcome.next;
    resp.reject = outcome.kind === 'resend';
    this.send(resp);
  }

  /** Installs a complete snapshot from the leader; false when the log already covers it. */
  private restore(s: Snapshot): boolean {
    if (s.meta.index <= this.log.committed) return false;
    if (this.log.matchTerm(s.meta.index, s.meta.term)) {
      // Our log already holds the snapshot's last entry, so it holds everything before it too.
      this.log.commitTo(s.meta.index);
      return false;
    }
    this.log.restore(s.meta.index, s.meta.term);
    this.conf = cloneConfState(s.meta.conf);
    this.confAppliedTo = s.meta.index;
    this.snapshot = s;
    this.snapshotToInstall = s;
    return true;
  }

  private handleAppendResp(m: Message, pr: Progress): void {
    pr.recentActive = true;
    if (m.reject) {
      const hint = m.logTerm > 0 ? this.log.findConflictByTerm(m.rejectHint, m.logTerm)[0] : m.rejectHint;
      if (pr.maybeDecrTo(m.index, hint)) {
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
        this.sendAppends(m.from, pr);
      }
      return;
    }
    if (pr.maybeUpdate(m.index) || (pr.match === m.index && pr.state === ProgressState.Probe)) {
      if (pr.state === ProgressState.Probe) {
        pr.becomeReplicate();
      } else if (pr.state === ProgressState.Snapshot && pr.match + 1 >= this.log.firstIndex()) {
        pr.becomeProbe();
        pr.becomeReplicate();
      } else if (pr.state === ProgressState.Replicate) {
        pr.inflights.freeLE(m.index);
      }
      if (this.maybeCommit()) this.needsBroadcast = true;
      this.sendAppends(m.from, pr);
      if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) this.sendTimeoutNow(m.from);
    }
  }

  private handleHeartbeatResp(m: Message, pr: Progress): void {
    pr.recentActive = true;
    pr.paused = false;
    if (pr.state !== ProgressState.Snapshot && (pr.match < this.log.lastIndex() || pr.canBumpCommit(this.log.committed))) {
      this.maybeSendAppend(m.from, pr, true);
    }
    if (m.context.length === 0 || this.readOnly.size === 0) return;
    const acks = this.readOnly.recvAck(m.from, m.context);
    if (acks === undefined || !this.hasQuorum(acks)) return;
    for (const req of this.readOnly.advance(m.context)) this.answerRead(req);
  }

  private hasQuorum(acks: Set<NodeId>): boolean {
    let n = 0;
    for (const v of this.conf.voters) if (v === this.id || acks.has(v)) n++;
    return n >= quorumSize(this.conf.voters);
  }

  private handleSnapshotResp(m: Message, pr: Progress): void {
    pr.recentActive = true;
    if (pr.state !== ProgressState.Snapshot || m.index !== pr.pendingSnapshot) return;
    if (m.reject) {
      pr.snapOffset = m.rejectHint;
      pr.snapAcked = m.rejectHint;
      pr.snapSentAll = false;
    } else if (m.rejectHint > pr.snapAcked) {
      pr.snapAcked = m.rejectHint;
    }
    this.sendSnapshotChunks(m.from, pr);
  }

  // ---------------------------------------------------------------- leader replication

  private appendProposals(entries: Entry[]): void {
    if (!this.progress.has(this.id)) {
      throw codedError(Error, ErrorCode.PROPOSAL_DROPPED, `Leader ${this.id} is no longer a member`);
    }
    if (this.leadTransferee !== '') {
      throw codedError(Error, ErrorCode.PROPOSAL_DROPPED, `Leadership is moving to ${this.leadTransferee}`);
    }
    let size = 0;
    for (const e of entries) size += entrySize(e);
    const max = this.cfg.maxUncommittedBytes;
    if (max > 0 && this.uncommittedBytes > 0 && this.uncommittedBytes + size > max) {
      throw codedError(Error, ErrorCode.PROPOSAL_DROPPED, `Uncommitted proposals exceed maxUncommittedBytes (${max})`);
    }
    let index = this.log.lastIndex();
    const out = entries.map((e) => ({ term: this.term, index: ++index, type: e.type, data: e.data }));
    this.uncommittedBytes += size;
    this.appendEntries(out);
  }

  private appendEntries(entries: Entry[]): void {
    this.log.append(entries);
    this.needsBroadcast = true;
  }

  /** Commits the highest majority-replicated index, but only counting entries of our own term (paper figure 8). */
  private maybeCommit(): boolean {
    const mci = majorityIndex(this.conf.voters, (id) => this.progress.get(id)?.match ?? 0);
    if (mci > this.log.committed && mci !== Infinity && this.log.term(mci) === this.term) {
      this.log.commitTo(mci);
      if (this.pendingReads.length > 0) this.releasePendingReads();
      return true;
    }
    return false;
  }

  private committedInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  private flushBroadcast(): void {
    if (this.role === Role.Leader) {
      if (this.needsBroadcast) {
        for (const [id, pr] of this.progress) if (id !== this.id) this.sendAppends(id, pr);
      }
      if (this.readHeartbeatDue) this.broadcastHeartbeat(this.readOnly.lastContext() ?? EMPTY);
    }
    this.needsBroadcast = false;
    this.readHeartbeatDue = false;
  }

  /** Sends as much as flow control allows to one follower (pipelining in Replicate state). */
  private sendAppends(to: NodeId, pr: Progress): void {
    let sent = false;
    while (this.maybeSendAppend(to, pr, false)) {
      sent = true;
      if (pr.state !== ProgressState.Replicate) break;
    }
    if (!sent && pr.canBumpCommit(this.log.committed)) this.maybeSendAppend(to, pr, true);
  }

  private maybeSendAppend(to: NodeId, pr: Progress, sendIfEmpty: boolean): boolean {
    if (pr.state === ProgressState.Snapshot) return false;
    if (pr.state === ProgressState.Probe && pr.paused) return false;
    const last = this.log.lastIndex();
    const canSendEntries = pr.next <= last && (pr.state === ProgressState.Probe || !pr.inflights.full());
    if (!canSendEntries && !sendIfEmpty) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    if (prevTerm === undefined) {
      this.startSnapshot(to, pr);
      return false;
    }
    const entries = canSendEntries ? this.log.slice(pr.next, last, this.cfg.maxSizePerMsg) : [];
    const m = newMessage(MessageType.Append, this.id, to, this.term);
    m.index = prevIndex;
    m.logTerm = prevTerm;
    m.entries = entries;
    m.commit = this.log.committed;
    this.send(m);
    pr.sentEntries(entries.length, prevIndex + entries.length, m.commit);
    return true;
  }

  private broadcastHeartbeat(context: Uint8Array): void {
    for (const [id, pr] of this.progress) {
      if (id === this.id) continue;
      const m = newMessage(MessageType.Heartbeat, this.id, id, this.term);
      m.commit = Math.min(pr.match, this.log.committed);
      m.context = context;
      this.send(m);
    }
  }

  private sendTimeoutNow(to: NodeId): void {
    this.send(newMessage(MessageType.TimeoutNow, this.id, to, this.term));
  }

  private startSnapshot(to: NodeId, pr: Progress): void {
    // Only stream to a follower that answers, or the transfer just burns bandwidth (etcd).
    if (!pr.recentActive || this.snapshot === null) return;
    pr.becomeSnapshot(this.snapshot.meta.index);
    this.sendSnapshotChunks(to, pr);
  }

  private sendSnapshotChunks(to: NodeId, pr: Progress): void {
    const snap = this.snapshot!;
    if (snap.meta.index !== pr.pendingSnapshot) pr.becomeSnapshot(snap.meta.index);
    const total = snap.data.length;
    const chunk = this.cfg.snapshotChunkBytes;
    const window = chunk * this.cfg.maxInflightSnapshotChunks;
    if (pr.snapOffset > total) pr.snapOffset = total;
    while (!pr.snapSentAll && pr.snapOffset - pr.snapAcked < window) {
      const end = Math.min(total, pr.snapOffset + chunk);
      const m = newMessage(MessageType.Snapshot, this.id, to, this.term);
      m.snapshot = { meta: snap.meta, offset: pr.snapOffset, total, data: snap.data.subarray(pr.snapOffset, end) };
      this.send(m);
      pr.snapOffset = end;
      if (end === total) pr.snapSentAll = true;
    }
  }

  private checkSnapshotStalls(): void {
    for (const [id, pr] of this.progress) {
      if (pr.state !== ProgressState.Snapshot) continue;
      if (pr.snapAcked !== pr.snapAckedAtLastCheck) {
        pr.snapAckedAtLastCheck = pr.snapAcked;
        pr.snapIdleBeats = 0;
        continue;
      }
      if (++pr.snapIdleBeats < SNAPSHOT_STALL_BEATS) continue;
      // Chunks or their acks were lost: resend from the last acknowledged offset.
      pr.snapIdleBeats = 0;
      pr.snapOffset = pr.snapAcked;
      pr.snapSentAll = false;
      this.sendSnapshotChunks(id, pr);
    }
  }

  // ---------------------------------------------------------------- reads and apply

  private handleReadRequest(from: NodeId, context: Uint8Array): void {
    if (!this.committedInCurrentTerm()) {
      // Our commit index may lag entries committed by earlier leaders until an entry of our
      // own term commits (thesis 6.4 step 1), so the read waits.
      if (this.pendingReads.length >= this.cfg.maxPendingReads) {
        if (from === this.id) throw codedError(Error, ErrorCode.PROPOSAL_DROPPED, 'Too many reads are waiting for the first commit');
        return;
      }
      this.pendingReads.push({ from, context });
      return;
    }
    const req: ReadRequest = { index: this.log.committed, context, from, acks: new Set() };
    if (this.conf.voters.length === 1 && this.conf.voters[0] === this.id) {
      this.answerRead(req);
      return;
    }
    if (this.readOnly.add(req.index, context, from)) this.readHeartbeatDue = true;
  }

  private releasePendingReads(): void {
    if (!this.committedInCurrentTerm()) return;
    const reads = this.pendingReads;
    this.pendingReads = [];
    for (const r of reads) this.handleReadRequest(r.from, r.context);
  }

  private answerRead(req: ReadRequest): void {
    if (req.from === this.id) {
      this.readStates.push({ index: req.index, context: req.context });
      return;
    }
    const m = newMessage(MessageType.ReadIndexResp, this.id, req.from, this.term);
    m.index = req.index;
    m.context = req.context;
    this.send(m);
  }

  private appliedTo(index: number): void {
    for (let i = Math.max(this.confAppliedTo, this.log.applied) + 1; i <= index; i++) {
      const e = this.log.entry(i);
      if (e === undefined) continue;
      if (this.role === Role.Leader && e.term === this.term) {
        this.uncommittedBytes = Math.max(0, this.uncommittedBytes - entrySize(e));
      }
      if (e.type === EntryType.ConfChange) this.applyConf(decodeConfChange(e.data));
    }
    this.log.applied = index;
    if (index > this.confAppliedTo) this.confAppliedTo = index;
  }

  private applyConf(cc: ConfChange): void {
    this.conf = applyConfChange(this.conf, cc);
    if (this.role !== Role.Leader) return;
    const next = this.log.lastIndex() + 1;
    const members = new Set([...this.conf.voters, ...this.conf.learners]);
    for (const id of [...this.progress.keys()]) if (!members.has(id)) this.progress.delete(id);
    for (const id of members) {
      const isLearner = !this.conf.voters.includes(id);
      const pr = this.progress.get(id);
      if (pr === undefined) {
        const fresh = new Progress(next, this.cfg.maxInflightMsgs, isLearner);
        fresh.recentActive = true;
        this.progress.set(id, fresh);
      } else {
        pr.isLearner = isLearner;
      }
    }
    if (this.leadTransferee !== '' && !this.conf.voters.includes(this.leadTransferee)) this.leadTransferee = '';
    if (!this.conf.voters.includes(this.id)) {
      // Removed or demoted: tell followers the commit index, then step down (thesis 4.2.2).
      this.needsBroadcast = true;
      this.flushBroadcast();
      this.becomeFollower(this.term, '');
      return;
    }
    if (this.maybeCommit()) this.needsBroadcast = true;
  }
}

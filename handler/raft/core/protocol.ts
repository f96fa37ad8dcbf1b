/**
 * The protocol half of the Raft core (etcd-io/raft raft.go): term, vote and role, elections
 * with pre-vote and leases, the message handlers of each role, commitment (counting only
 * current-term entries, paper figure 8), membership application and the outgoing message
 * queues. RaftCore (raft.ts) adds the driver-facing API on top.
 */
import type {
  ConfChange,
  ConfState,
  Entry,
  HardState,
  Message,
  NodeId,
  ReadState,
  Snapshot,
  SoftState,
} from '../types.ts';
import { EntryType, MessageType, Role } from '../types.ts';
import { codedError, ErrorCode } from '../../../shared/errors.ts';
import { resolveRaftConfig, type RaftConfig, type ResolvedRaftConfig } from './config.ts';
import { RaftLog, entrySize } from './log.ts';
import type { Progress } from './progress.ts';
import { AckOutcome, Replicator } from './replicator.ts';
import { applyConfChange, cloneConfState, decodeConfChange, voteResult, VoteResult } from './conf.ts';
import type { ReadRequest } from './read-only.ts';
import { Reads } from './reads.ts';
import { startup, type StoredState } from './startup.ts';
import { SnapshotReceiver } from './snapshot-receiver.ts';
import { EMPTY, TRANSFER_CONTEXT, isTransferContext, newMessage } from './messages.ts';

/** What the last ready() handed out, settled by advance(). */
export interface Outstanding {
  lastEntry: number;
  hardState: HardState | null;
  committedTo: number;
}

/** Equal hard states need no write. */
export const sameHard = (a: HardState, b: HardState): boolean =>
  a.term === b.term && a.vote === b.vote && a.commit === b.commit;

/** Protocol state and message handling; see RaftCore for the API. */
export abstract class RaftProtocol {
  readonly id: NodeId;
  protected readonly cfg: ResolvedRaftConfig;
  protected term = 0;
  protected vote: NodeId = '';
  protected lead: NodeId = '';
  protected role: Role = Role.Follower;
  protected readonly log: RaftLog;
  protected conf: ConfState;
  protected confAppliedTo: number;
  protected readonly repl: Replicator;
  protected readonly votes = new Map<NodeId, boolean>();
  protected electionElapsed = 0;
  protected heartbeatElapsed = 0;
  protected randomizedElectionTimeout = 0;
  protected leadTransferee: NodeId = '';
  protected pendingConfIndex = 0;
  protected uncommittedBytes = 0;
  protected readonly reads: Reads;
  protected readStates: ReadState[] = [];
  protected msgs: Message[] = [];
  protected msgsAfterPersist: Message[] = [];
  protected needsBroadcast = false;
  /** Latest local snapshot, streamed to followers whose next entry was compacted away. */
  protected snapshot: Snapshot | null;
  protected snapshotToInstall: Snapshot | null = null;
  protected readonly receiver: SnapshotReceiver;
  protected prevSoft: SoftState;
  protected prevHard: HardState;
  protected durableHard: HardState;
  protected outstanding: Outstanding | null = null;

  constructor(config: RaftConfig, stored?: StoredState) {
    const cfg = resolveRaftConfig(config);
    this.cfg = cfg;
    this.id = cfg.id;
    this.receiver = new SnapshotReceiver(cfg.maxSnapshotBytes);
    const st = startup(cfg, stored);
    this.log = st.log;
    this.snapshot = st.snapshot;
    this.conf = st.conf;
    this.confAppliedTo = this.log.applied;
    this.term = st.hardState.term;
    this.vote = st.hardState.vote;
    this.durableHard = st.durable;
    this.prevHard = st.durable;
    this.repl = new Replicator({
      id: this.id,
      log: this.log,
      cfg,
      term: () => this.term,
      snapshot: () => this.snapshot,
      send: (m) => this.send(m),
    });
    this.reads = new Reads({
      id: this.id,
      maxPending: cfg.maxPendingReads,
      committed: () => this.log.committed,
      committedInCurrentTerm: () => this.committedInCurrentTerm(),
      voters: () => this.conf.voters,
      answer: (req) => this.answerRead(req),
    });
    this.becomeFollower(this.term, '');
    this.prevSoft = { lead: '', role: Role.Follower };
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

  protected hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  protected reset(term: number): void {
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
    this.repl.clear();
    this.pendingConfIndex = 0;
    this.uncommittedBytes = 0;
    this.reads.reset();
    this.needsBroadcast = false;
  }

  protected becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.role = Role.Follower;
  }

  protected becomePreCandidate(): void {
    // Pre-candidates keep term and vote (thesis 9.6); only the role and tally change.
    this.votes.clear();
    this.lead = '';
    this.role = Role.PreCandidate;
  }

  protected becomeCandidate(): void {
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = Role.Candidate;
  }

  protected becomeLeader(): void {
    this.reset(this.term);
    this.lead = this.id;
    this.role = Role.Leader;
    this.repl.reset(this.conf);
    // Entries from earlier terms may hide an unapplied conf change: allow no new one until
    // everything up to here is applied (etcd pendingConfIndex).
    this.pendingConfIndex = this.log.lastIndex();
    // The empty entry of the new term lets earlier entries commit (Raft paper 5.4.2, 8).
    this.appendEntries([{ term: this.term, index: this.log.lastIndex() + 1, type: EntryType.Normal, data: EMPTY }]);
  }

  protected promotable(): boolean {
    return this.conf.voters.includes(this.id);
  }

  protected hasUnappliedConfChange(): boolean {
    for (let i = this.log.applied + 1; i <= this.log.committed; i++) {
      if (this.log.entry(i)?.type === EntryType.ConfChange) return true;
    }
    return false;
  }

  protected hup(transfer: boolean): void {
    if (this.role === Role.Leader || !this.promotable()) return;
    // A committed but unapplied conf change means our view of the voters may be stale
    // (etcd issue 7625); wait until it is applied.
    if (this.hasUnappliedConfChange()) return;
    this.startCampaign(this.cfg.preVote && !transfer, transfer);
  }

  protected startCampaign(pre: boolean, transfer: boolean): void {
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

  protected poll(from: NodeId, granted: boolean): VoteResult {
    if (!this.votes.has(from)) this.votes.set(from, granted);
    return voteResult(this.conf.voters, this.votes);
  }

  protected tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  protected tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTick) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum) {
        if (!this.repl.quorumActive(this.conf.voters)) {
          this.becomeFollower(this.term, '');
          return;
        }
        this.repl.resetRecentActive();
      }
      // A transfer that did not finish within an election timeout is abandoned (thesis 3.10).
      this.leadTransferee = '';
    }
    if (this.heartbeatElapsed >= this.cfg.heartbeatTick) {
      this.heartbeatElapsed = 0;
      this.repl.broadcastHeartbeat(this.reads.lastContext() ?? EMPTY);
      this.repl.checkSnapshotStalls();
    }
  }

  protected send(m: Message): void {
    // The leader's replication may go out before its own write (thesis 10.2.1) once its term
    // and vote are durable; anything else can depend on unpersisted state and must wait.
    const early = this.role === Role.Leader && this.durableHard.term === this.term && this.durableHard.vote === this.vote;
    if (early) this.msgs.push(m);
    else this.msgsAfterPersist.push(m);
  }

  protected handleVoteRequest(m: Message): void {
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

  protected stepFollower(m: Message): void {
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

  protected stepCandidate(m: Message): void {
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

  protected stepLeader(m: Message): void {
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
      this.reads.request(m.from, m.context);
      return;
    }
    const pr = this.repl.progress.get(m.from);
    if (pr === undefined) return;
    switch (m.type) {
      case MessageType.AppendResp:
        this.handleAppendResp(m, pr);
        break;
      case MessageType.HeartbeatResp:
        this.handleHeartbeatResp(m, pr);
        break;
      case MessageType.SnapshotResp:
        this.repl.onSnapshotResp(m, pr);
        break;
      default:
        break;
    }
  }

  protected handleAppend(m: Message): void {
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

  protected handleHeartbeat(m: Message): void {
    this.log.commitTo(m.commit);
    const resp = newMessage(MessageType.HeartbeatResp, this.id, m.from, this.term);
    resp.context = m.context;
    this.send(resp);
  }

  protected handleSnapshotChunk(m: Message): void {
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
  protected restore(s: Snapshot): boolean {
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

  protected handleAppendResp(m: Message, pr: Progress): void {
    const outcome = this.repl.onAppendResp(m, pr);
    if (outcome === AckOutcome.Ignored) return;
    if (outcome === AckOutcome.Advanced && this.maybeCommit()) this.needsBroadcast = true;
    this.repl.sendAppends(m.from, pr);
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) this.repl.sendTimeoutNow(m.from);
  }

  protected handleHeartbeatResp(m: Message, pr: Progress): void {
    this.repl.onHeartbeatResp(m, pr);
    this.reads.onHeartbeatAck(m.from, m.context);
  }

  protected appendProposals(entries: Entry[]): void {
    if (!this.repl.progress.has(this.id)) {
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

  protected appendEntries(entries: Entry[]): void {
    this.log.append(entries);
    this.needsBroadcast = true;
  }

  /** Commits the highest majority-replicated index, but only counting entries of our own term (paper figure 8). */
  protected maybeCommit(): boolean {
    const mci = this.repl.committedIndex(this.conf.voters);
    if (mci > this.log.committed && mci !== Infinity && this.log.term(mci) === this.term) {
      this.log.commitTo(mci);
      this.reads.onCommit();
      return true;
    }
    return false;
  }

  protected committedInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  protected flushBroadcast(): void {
    if (this.role === Role.Leader) {
      if (this.needsBroadcast) this.repl.broadcastAppends();
      if (this.reads.heartbeatDue) this.repl.broadcastHeartbeat(this.reads.lastContext() ?? EMPTY);
    }
    this.needsBroadcast = false;
    this.reads.heartbeatDue = false;
  }

  protected answerRead(req: ReadRequest): void {
    if (req.from === this.id) {
      this.readStates.push({ index: req.index, context: req.context });
      return;
    }
    const m = newMessage(MessageType.ReadIndexResp, this.id, req.from, this.term);
    m.index = req.index;
    m.context = req.context;
    this.send(m);
  }

  protected appliedTo(index: number): void {
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

  protected applyConf(cc: ConfChange): void {
    this.conf = applyConfChange(this.conf, cc);
    if (this.role !== Role.Leader) return;
    this.repl.syncMembers(this.conf);
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

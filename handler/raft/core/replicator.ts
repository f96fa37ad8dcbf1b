/**
 * The leader's replication engine (etcd-io/raft raft.go maybeSendAppend/bcastHeartbeat and the
 * MsgAppResp handling, plus chunked InstallSnapshot): one Progress per member, batched and
 * pipelined AppendEntries under flow control, probe backtracking with rejection hints,
 * snapshot streaming with resend on stalls. It only sends; commit decisions stay in the core.
 */
import type { ConfState, Message, NodeId, Snapshot } from '../types.ts';
import { MessageType } from '../types.ts';
import type { ResolvedRaftConfig } from './config.ts';
import { majorityIndex, quorumSize } from './conf.ts';
import type { RaftLog } from './log.ts';
import { newMessage } from './messages.ts';
import { Progress, ProgressState } from './progress.ts';

/** Idle heartbeats without a snapshot ack before the leader resends from the acknowledged offset. */
const SNAPSHOT_STALL_BEATS = 3;

/** What an AppendResp did to a follower's progress. */
export const AckOutcome = {
  /** Stale or a rejection (already handled). */
  Ignored: 0,
  /** Accepted without new information (a probe confirmed the match point). */
  Accepted: 1,
  /** The follower's match index moved forward. */
  Advanced: 2,
} as const;
export type AckOutcome = (typeof AckOutcome)[keyof typeof AckOutcome];

/** What the replicator reads from the core that owns it. */
export interface ReplicatorHost {
  readonly id: NodeId;
  readonly log: RaftLog;
  readonly cfg: ResolvedRaftConfig;
  term(): number;
  /** The latest local snapshot, streamed to followers whose next entry was compacted away. */
  snapshot(): Snapshot | null;
  send(m: Message): void;
}

/** Progress tracking and message production for a leader. */
export class Replicator {
  progress = new Map<NodeId, Progress>();
  private readonly host: ReplicatorHost;

  constructor(host: ReplicatorHost) {
    this.host = host;
  }

  /** Fresh progress for every member when becoming leader; our own match is what is durable. */
  reset(conf: ConfState): void {
    const { log, cfg, id } = this.host;
    const next = log.lastIndex() + 1;
    this.progress = new Map();
    for (const v of conf.voters) this.progress.set(v, new Progress(next, cfg.maxInflightMsgs, false));
    for (const l of conf.learners) this.progress.set(l, new Progress(next, cfg.maxInflightMsgs, true));
    const self = this.progress.get(id);
    if (self !== undefined) {
      self.maybeUpdate(log.stabled);
      self.becomeReplicate();
      self.recentActive = true;
    }
  }

  clear(): void {
    if (this.progress.size > 0) this.progress = new Map();
  }

  /** Adds progress for new members, drops removed ones, updates learner flags. */
  syncMembers(conf: ConfState): void {
    const next = this.host.log.lastIndex() + 1;
    const members = new Set([...conf.voters, ...conf.learners]);
    for (const id of [...this.progress.keys()]) if (!members.has(id)) this.progress.delete(id);
    for (const id of members) {
      const isLearner = !conf.voters.includes(id);
      const pr = this.progress.get(id);
      if (pr === undefined) {
        const fresh = new Progress(next, this.host.cfg.maxInflightMsgs, isLearner);
        fresh.recentActive = true;
        this.progress.set(id, fresh);
      } else {
        pr.isLearner = isLearner;
      }
    }
  }

  /** The highest index stored on a majority of voters (Infinity for no voters). */
  committedIndex(voters: readonly NodeId[]): number {
    return majorityIndex(voters, (id) => this.progress.get(id)?.match ?? 0);
  }

  /** Check-quorum: a majority of voters was heard from since the last round. */
  quorumActive(voters: readonly NodeId[]): boolean {
    let active = 0;
    for (const v of voters) if (v === this.host.id || this.progress.get(v)?.recentActive === true) active++;
    return active >= quorumSize(voters);
  }

  resetRecentActive(): void {
    for (const [id, pr] of this.progress) pr.recentActive = id === this.host.id;
  }

  broadcastAppends(): void {
    for (const [id, pr] of this.progress) if (id !== this.host.id) this.sendAppends(id, pr);
  }

  /** Sends as much as flow control allows to one follower (pipelining in Replicate state). */
  sendAppends(to: NodeId, pr: Progress): void {
    let sent = false;
    while (this.maybeSendAppend(to, pr, false)) {
      sent = true;
      if (pr.state !== ProgressState.Replicate) break;
    }
    if (!sent && pr.canBumpCommit(this.host.log.committed)) this.maybeSendAppend(to, pr, true);
  }

  private maybeSendAppend(to: NodeId, pr: Progress, sendIfEmpty: boolean): boolean {
    if (pr.state === ProgressState.Snapshot) return false;
    if (pr.state === ProgressState.Probe && pr.paused) return false;
    const { log, cfg } = this.host;
    const last = log.lastIndex();
    const canSendEntries = pr.next <= last && (pr.state === ProgressState.Probe || !pr.inflights.full());
    if (!canSendEntries && !sendIfEmpty) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = log.term(prevIndex);
    if (prevTerm === undefined) {
      this.startSnapshot(to, pr);
      return false;
    }
    const entries = canSendEntries ? log.slice(pr.next, last, cfg.maxSizePerMsg) : [];
    const m = newMessage(MessageType.Append, this.host.id, to, this.host.term());
    m.index = prevIndex;
    m.logTerm = prevTerm;
    m.entries = entries;
    m.commit = log.committed;
    this.host.send(m);
    pr.sentEntries(entries.length, prevIndex + entries.length, m.commit);
    return true;
  }

  /** Heartbeats carry min(match, commit) so a follower never commits past what it holds. */
  broadcastHeartbeat(context: Uint8Array): void {
    const { id, log } = this.host;
    const term = this.host.term();
    for (const [to, pr] of this.progress) {
      if (to === id) continue;
      const m = newMessage(MessageType.Heartbeat, id, to, term);
      m.commit = Math.min(pr.match, log.committed);
      m.context = context;
      this.host.send(m);
    }
  }

  sendTimeoutNow(to: NodeId): void {
    this.host.send(newMessage(MessageType.TimeoutNow, this.host.id, to, this.host.term()));
  }

  /**
   * Handles an AppendResp. A rejection backs `next` off and re-sends at once. An accepted ack
   * updates the progress state but sends nothing: the core first recomputes commit, so the
   * next AppendEntries carries the new commit index, then calls sendAppends().
   */
  onAppendResp(m: Message, pr: Progress): AckOutcome {
    pr.recentActive = true;
    const log = this.host.log;
    if (m.reject) {
      const hint = m.logTerm > 0 ? log.findConflictByTerm(m.rejectHint, m.logTerm)[0] : m.rejectHint;
      if (pr.maybeDecrTo(m.index, hint)) {
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
        this.sendAppends(m.from, pr);
      }
      return AckOutcome.Ignored;
    }
    const advanced = pr.maybeUpdate(m.index);
    if (!advanced && !(pr.match === m.index && pr.state === ProgressState.Probe)) return AckOutcome.Ignored;
    if (pr.state === ProgressState.Probe) {
      pr.becomeReplicate();
    } else if (pr.state === ProgressState.Snapshot && pr.match + 1 >= log.firstIndex()) {
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (pr.state === ProgressState.Replicate) {
      pr.inflights.freeLE(m.index);
    }
    return advanced ? AckOutcome.Advanced : AckOutcome.Accepted;
  }

  onHeartbeatResp(m: Message, pr: Progress): void {
    pr.recentActive = true;
    pr.paused = false;
    const log = this.host.log;
    if (pr.state !== ProgressState.Snapshot && (pr.match < log.lastIndex() || pr.canBumpCommit(log.committed))) {
      this.maybeSendAppend(m.from, pr, true);
    }
  }

  onSnapshotResp(m: Message, pr: Progress): void {
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

  private startSnapshot(to: NodeId, pr: Progress): void {
    // Only stream to a follower that answers, or the transfer just burns bandwidth (etcd).
    const snap = this.host.snapshot();
    if (!pr.recentActive || snap === null) return;
    pr.becomeSnapshot(snap.meta.index);
    this.sendSnapshotChunks(to, pr);
  }

  /** Sends chunks up to the in-flight window; restarts the transfer if a newer snapshot exists. */
  private sendSnapshotChunks(to: NodeId, pr: Progress): void {
    const snap = this.host.snapshot()!;
    if (snap.meta.index !== pr.pendingSnapshot) pr.becomeSnapshot(snap.meta.index);
    const { cfg, id } = this.host;
    const total = snap.data.length;
    const chunk = cfg.snapshotChunkBytes;
    const window = chunk * cfg.maxInflightSnapshotChunks;
    if (pr.snapOffset > total) pr.snapOffset = total;
    while (!pr.snapSentAll && pr.snapOffset - pr.snapAcked < window) {
      const end = Math.min(total, pr.snapOffset + chunk);
      const m = newMessage(MessageType.Snapshot, id, to, this.host.term());
      m.snapshot = { meta: snap.meta, offset: pr.snapOffset, total, data: snap.data.subarray(pr.snapOffset, end) };
      this.host.send(m);
      pr.snapOffset = end;
      if (end === total) pr.snapSentAll = true;
    }
  }

  /** Called every heartbeat: a transfer whose ack offset stopped moving resends from there. */
  checkSnapshotStalls(): void {
    for (const [id, pr] of this.progress) {
      if (pr.state !== ProgressState.Snapshot) continue;
      if (pr.snapAcked !== pr.snapAckedAtLastCheck) {
        pr.snapAckedAtLastCheck = pr.snapAcked;
        pr.snapIdleBeats = 0;
        continue;
      }
      if (++pr.snapIdleBeats < SNAPSHOT_STALL_BEATS) continue;
      pr.snapIdleBeats = 0;
      pr.snapOffset = pr.snapAcked;
      pr.snapSentAll = false;
      this.sendSnapshotChunks(id, pr);
    }
  }
}

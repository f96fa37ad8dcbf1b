/**
 * The raft node driver: runs the pure RaftCore (handler/raft/core) against real time, disk
 * and network, following etcd's Ready contract. One Ready is processed at a time:
 *
 *   1. send `messages` (the leader's replication may leave before its own write, thesis 10.2.1);
 *   2. write the snapshot, entries and hard state, and wait for the fsync when `mustSync`
 *      (group commit: everything in one Ready is one WAL batch, one fdatasync);
 *   3. send `messagesAfterPersist` (votes and acks: never before what they promise is durable);
 *   4. install a received snapshot, apply committed entries, answer reads;
 *   5. advance(), then take a snapshot every `snapshotThreshold` applied entries.
 *
 * Whatever arrives meanwhile (proposals, peer messages, ticks) is stepped into the core at once
 * and lands in the next Ready, so a thousand proposals in flight share a handful of fsyncs.
 */
import type { ClusterControl, ClusterStatus, ClusterStatusProvider, NewMember } from '../../api/types.ts';
import { codedError, ErrorCode } from '../../../shared/errors.ts';
import { createPrng, decodeConfChange, encodeConfChange, RaftCore, type RaftStatus, type StoredState } from '../core/index.ts';
import { openRaftStorage, type RaftStorage, type RecoveredState } from '../storage/index.ts';
import { RaftTransport } from '../transport/transport.ts';
import { errorFields, silentLogger, type RaftLogger } from '../transport/logger.ts';
import type { ConfChange, Entry, HardState, Message, NodeId, Ready, Snapshot, SoftState } from '../types.ts';
import { ConfChangeType, EntryType, Role } from '../types.ts';
import { ClusterController, type ControlHost } from './control.ts';
import { decodeEntry, decodeSnapshotData, encodeCommandEntry, encodeMemberEntry, encodeSnapshotData, sameTag, TAG_BYTES } from './envelope.ts';
import { resolveNodeOptions, type RaftNodeOptions, type RaftStateMachine, type ResolvedNodeTimings } from './options.ts';
import { ReadTracker } from './read-tracker.ts';
import { clusterStatus, type RaftNodeStats } from './status.ts';
import { abortedError } from './wait-list.ts';
import { Proposals } from './proposals.ts';

/** Listener of leadership changes: our role and the known leader ('' for none). */
export type LeadershipListener = (role: Role, leader: NodeId) => void;

interface IndexWaiter {
  data: Uint8Array;
  resolve(): void;
  reject(err: Error): void;
}

interface LeaderWaiter {
  to: NodeId;
  deadline: number;
  resolve(): void;
  reject(err: Error): void;
}

function randomBytes(n: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** NOT_LEADER naming the leader we know of (id and URL), so a caller can go there. */
export function notLeaderError(
  self: NodeId,
  leader: NodeId,
  url: string | undefined,
): Error & { code: string; leaderId: string | null; leaderUrl: string | null } {
  const err = codedError(
    Error,
    ErrorCode.NOT_LEADER,
    leader === '' ? `Node ${self} is not the leader and knows none yet` : `Node ${self} is not the leader; the leader is ${leader}`,
  ) as Error & { code: string; leaderId: string | null; leaderUrl: string | null };
  err.leaderId = leader === '' ? null : leader;
  err.leaderUrl = url ?? null;
  return err;
}

/** Opens the storage, recovers, and starts a node (and its listener when `listen` is set). */
export function startRaftNode<R>(options: RaftNodeOptions<R>): Promise<RaftNode<R>> {
  return RaftNode.open(options);
}

/** One running raft member. Create with startRaftNode(). */
export class RaftNode<R> implements ClusterStatusProvider, ClusterControl {
  readonly id: NodeId;
  /** The peer transport; feed it WebSockets with accept() when sharing another listener. */
  readonly transport: RaftTransport;
  readonly #core: RaftCore;
  readonly #storage: RaftStorage;
  readonly #sm: RaftStateMachine<R>;
  readonly #opts: RaftNodeOptions<R>;
  readonly #t: ResolvedNodeTimings;
  readonly #log: RaftLogger;
  readonly #tag = randomBytes(TAG_BYTES);
  #seq = 0;
  readonly #proposals: Proposals;
  readonly #reads: ReadTracker;
  readonly #indexWaiters = new Map<number, IndexWaiter>();
  readonly #leaderWaiters = new Set<LeaderWaiter>();
  readonly #control: ClusterController;
  readonly #configPeers: Map<NodeId, string>;
  /** Member URLs replicated through the log (members added at runtime); go into snapshots. */
  #replicated: Map<NodeId, string>;
  #applied: number;
  #snapshotIndex: number;
  #snapshotting = false;
  /** Index of the last entry known durable in our WAL. */
  #persisted: number;
  /** The latest commit-only hard state not written yet (see #handleReady). */
  #unsavedHard: HardState | null = null;
  #ticks = 0;
  #soft: SoftState = { lead: '', role: Role.Follower };
  #timer: ReturnType<typeof setInterval> | undefined;
  #pumping = false;
  #scheduled = false;
  #idle: Promise<void> = Promise.resolve();
  #closed = false;
  #failed: Error | null = null;
  readonly #listeners = new Set<LeadershipListener>();
  readonly #counters = { snapshotsTaken: 0, snapshotsInstalled: 0, leaderChanges: 0, readies: 0, entriesApplied: 0 };

  /** @internal Use startRaftNode(). */
  static async open<R>(options: RaftNodeOptions<R>): Promise<RaftNode<R>> {
    const timings = resolveNodeOptions(options);
    const logger = options.logger ?? silentLogger;
    const { storage, recovered } = await openRaftStorage({
      dir: options.dataDir,
      ...(options.segmentBytes === undefined ? {} : { segmentBytes: options.segmentBytes }),
      logger,
    });
    let node: RaftNode<R> | undefined;
    try {
      node = new RaftNode(options, timings, storage, recovered);
      if (options.listen !== undefined) await node.transport.listen(options.listen);
      node.#start();
      return node;
    } catch (err) {
      if (node !== undefined) await node.close();
      else await storage.close().catch(() => {});
      throw err;
    }
  }

  private constructor(options: RaftNodeOptions<R>, timings: ResolvedNodeTimings, storage: RaftStorage, rec: RecoveredState) {
    this.id = options.id;
    this.#opts = options;
    this.#t = timings;
    this.#log = options.logger ?? silentLogger;
    this.#storage = storage;
    this.#sm = options.stateMachine;
    const peers = options.peers ?? [];
    this.#configPeers = new Map(peers.map((p) => [p.id, p.url]));
    this.#replicated = new Map();
    const empty = rec.hardState.term === 0 && rec.snapshot === null && rec.entries.length === 0;
    const stored: StoredState | undefined = empty ? undefined : { hardState: rec.hardState, snapshot: rec.snapshot, entries: rec.entries };
    if (rec.snapshot !== null) {
      const { members, machine } = decodeSnapshotData(rec.snapshot.data);
      this.#sm.restore(machine);
      this.#replicated = members;
    }
    this.#applied = rec.snapshot?.meta.index ?? 0;
    this.#persisted = storage.lastIndex;
    this.#snapshotIndex = this.#applied;
    const prng = createPrng(options.seed ?? randomBytes(4).reduce((a, b) => a * 256 + b, 0));
    // Founding members write identical bootstrap entries at term 1 (etcd does the same), so the
    // order must not depend on how each node's config happens to list its peers.
    const initialVoters = options.join === true ? [] : peers.length > 0 ? peers.map((p) => p.id).sort() : [options.id];
    this.#core = new RaftCore(
      {
        ...options.raft,
        id: options.id,
        random: prng.float,
        electionTick: timings.electionTicks,
        heartbeatTick: timings.heartbeatTicks,
        compactionMargin: timings.compactionMargin,
        initialVoters,
      },
      stored,
    );
    this.#proposals = new Proposals(
      {
        propose: (data) => this.#core.propose(data),
        leader: () => this.#soft.lead,
        reachable: (id) => id === this.id || this.transport.linkOpen(id),
        schedule: () => this.#schedule(),
      },
      this.#tag,
    );
    this.#reads = new ReadTracker(
      {
        readIndex: (ctx) => this.#core.readIndex(ctx),
        nextContext: () => {
          const ctx = new Uint8Array(TAG_BYTES + 8);
          ctx.set(this.#tag);
          new DataView(ctx.buffer).setFloat64(TAG_BYTES, ++this.#seq);
          return ctx;
        },
      },
      timings.electionTicks,
    );
    this.transport = new RaftTransport({
      nodeId: options.id,
      staticKey: options.staticKey,
      resolve: (id) => this.memberUrl(id),
      onMessages: (messages) => this.#receive(messages),
      onDropped: (messages) => {
        if (!this.#closed && this.#failed === null) this.#proposals.onDropped(messages);
      },
      onPayload: (kind, body, from) => this.#control.onPayload(kind, body, from),
      logger: this.#log,
      ...(options.transportLimits === undefined ? {} : { limits: options.transportLimits }),
      ...(options.dial === undefined ? {} : { dial: options.dial }),
    });
    this.#control = new ClusterController(this.#controlHost());
    this.#log.info(
      { term: rec.hardState.term, commit: rec.hardState.commit, snapshot: this.#snapshotIndex, entries: rec.entries.length, bootstrap: empty && initialVoters.length > 0 },
      'Raft node recovered',
    );
  }

  #start(): void {
    this.#timer = setInterval(() => this.#tick(), this.#t.tickIntervalMs);
    const voters = this.#core.status().conf.voters;
    // A single voter needs nobody's vote: no reason to wait out an election timeout.
    if (voters.length === 1 && voters[0] === this.id) this.#core.campaign();
    this.#schedule();
  }

  // ---- public API ----------------------------------------------------------------------

  /**
   * Proposes an application command; resolves with the state machine's result once this node
   * has applied it. A follower forwards it to the leader; without a known leader it waits for
   * one. Rejects with TIMEOUT (outcome unknown), ABORTED, PROPOSAL_DROPPED (leadership moving,
   * too many pending), CLOSED or STORAGE_FAILED.
   */
  propose(command: Uint8Array, signal?: AbortSignal): Promise<R> {
    const refused = this.#refuse(signal, 'Raft proposal');
    if (refused !== null) return Promise.reject(refused);
    const seq = ++this.#seq;
    return this.#proposeData(seq, encodeCommandEntry(this.#tag, seq, command), signal) as Promise<R>;
  }

  /** Resolves once this node has applied everything committed when read() was called (ReadIndex). */
  read(signal?: AbortSignal): Promise<void> {
    const refused = this.#refuse(signal, 'Raft read');
    if (refused !== null) return Promise.reject(refused);
    const p = this.#reads.add(Date.now() + this.#t.proposalTimeoutMs, signal);
    this.#schedule();
    return p;
  }

  /** The admin API's view of the cluster. */
  status(): ClusterStatus {
    return clusterStatus(this.#core.status(), this.#applied, (id) => this.memberUrl(id));
  }

  /** The core's own status (term, vote, indexes, membership, per-follower progress on the leader). */
  raftStatus(): RaftStatus {
    return this.#core.status();
  }

  /** Counters for operators, tests and benchmarks. */
  stats(): RaftNodeStats {
    const st = this.#core.status();
    return {
      id: this.id,
      role: st.role,
      term: st.term,
      leader: st.lead === '' ? null : st.lead,
      commitIndex: st.commit,
      appliedIndex: this.#applied,
      firstIndex: st.firstIndex,
      lastIndex: st.lastIndex,
      snapshotIndex: this.#snapshotIndex,
      ...this.#counters,
      proposalsPending: this.#proposals.size,
      proposalsParked: this.#proposals.parked,
      proposalsResubmitted: this.#proposals.resubmitted,
      readsPending: this.#reads.pending,
      failed: this.#failed === null ? null : this.#failed.message,
      storage: this.#storage.stats(),
      transport: this.transport.stats(),
    };
  }

  /** The URL of a member's raft listener, if known (replicated entries win over the config). */
  memberUrl(id: NodeId): string | undefined {
    return this.#replicated.get(id) ?? this.#configPeers.get(id);
  }

  /** The known leader ('' for none) and whether it is us. */
  get leader(): NodeId {
    return this.#soft.lead;
  }

  get isLeader(): boolean {
    return this.#soft.role === Role.Leader;
  }

  /** Why the node stopped, or null. */
  get failure(): Error | null {
    return this.#failed;
  }

  /** Calls `listener` on every change of role or known leader; returns the unsubscribe function. */
  onLeadershipChange(listener: LeadershipListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  addMember(member: NewMember, signal?: AbortSignal): Promise<void> {
    return this.#control.addMember(member, signal);
  }

  addLearner(member: NewMember, signal?: AbortSignal): Promise<void> {
    return this.#control.addLearner(member, signal);
  }

  promoteLearner(id: string, signal?: AbortSignal): Promise<void> {
    return this.#control.promoteLearner(id, signal);
  }

  removeMember(id: string, signal?: AbortSignal): Promise<void> {
    return this.#control.removeMember(id, signal);
  }

  transferLeadership(to: string | undefined, signal?: AbortSignal): Promise<void> {
    return this.#control.transferLeadership(to, signal);
  }

  /** Stops ticking, closes links, rejects waiters with CLOSED, flushes and closes the storage. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#rejectEverything(codedError(Error, ErrorCode.CLOSED, `Raft node ${this.id} is closed`));
    await this.transport.close();
    await this.#idle;
    if (this.#unsavedHard !== null && this.#failed === null) await this.#storage.saveHardState(this.#unsavedHard).catch(() => {});
    await this.#storage.close().catch(() => {});
    this.#log.info({}, 'Raft node closed');
  }

  // ---- event intake --------------------------------------------------------------------

  #refuse(signal: AbortSignal | undefined, what: string): Error | null {
    if (this.#failed !== null) return this.#failed;
    if (this.#closed) return codedError(Error, ErrorCode.CLOSED, `Raft node ${this.id} is closed`);
    if (signal?.aborted === true) return abortedError(signal, what);
    return null;
  }

  #proposeData(seq: number, data: Uint8Array, signal: AbortSignal | undefined): Promise<unknown> {
    if (this.#proposals.size >= this.#t.maxPendingProposals) {
      return Promise.reject(codedError(Error, ErrorCode.PROPOSAL_DROPPED, `Too many raft proposals pending (${this.#t.maxPendingProposals})`));
    }
    return this.#proposals.add(seq, data, Date.now() + this.#t.proposalTimeoutMs, signal);
  }

  #receive(messages: Message[]): void {
    if (this.#closed || this.#failed !== null) return;
    for (const m of messages) {
      try {
        this.#core.step(m);
      } catch (err) {
        if ((err as { code?: unknown }).code === ErrorCode.STORAGE_CORRUPT) {
          this.#fail(err);
          return;
        }
        this.#log.warn({ from: m.from, type: m.type, ...errorFields(err) }, 'Raft message refused');
      }
    }
    this.#schedule();
  }

  #tick(): void {
    if (this.#closed || this.#failed !== null) return;
    this.#ticks++;
    this.#core.tick();
    const now = Date.now();
    this.#proposals.onTick(now);
    this.#reads.onTick(this.#ticks, now);
    this.#control.onTick(now);
    for (const w of this.#leaderWaiters) {
      if (w.deadline > now) continue;
      this.#leaderWaiters.delete(w);
      w.reject(codedError(Error, ErrorCode.TIMEOUT, `Leadership did not move to ${w.to} in time`));
    }
    this.#schedule();
  }

  // ---- the Ready loop ------------------------------------------------------------------

  #schedule(): void {
    if (this.#pumping || this.#scheduled || this.#closed || this.#failed !== null) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      if (!this.#pumping) this.#idle = this.#run();
    });
  }

  async #run(): Promise<void> {
    this.#pumping = true;
    try {
      while (!this.#closed && this.#failed === null) {
        if (this.#reads.hasUnissued) this.#reads.issue(this.#ticks);
        if (!this.#core.hasReady()) break;
        await this.#handleReady(this.#core.ready());
      }
    } catch (err) {
      this.#fail(err);
    } finally {
      this.#pumping = false;
    }
  }

  async #handleReady(rd: Ready): Promise<void> {
    this.#counters.readies++;
    if (rd.softState !== null) this.#onSoftState(rd.softState);
    if (rd.messages.length > 0) this.transport.send(rd.messages);
    let durable: Promise<void> | null = null;
    if (rd.snapshot !== null) durable = this.#storage.saveSnapshot(rd.snapshot);
    if (rd.entries.length > 0) this.#proposals.onAppend(rd.entries);
    // Committed entries already on our disk from earlier Readies are applied while this Ready's
    // write is in flight (they are committed and durable; nothing they answer depends on this
    // write), so on the leader a write's result does not wait for an unrelated later fsync.
    let applyLater = rd.committedEntries;
    if (rd.snapshot === null && applyLater.length > 0) {
      const firstNew = rd.entries.length > 0 ? rd.entries[0]!.index : Infinity;
      const safe = Math.min(this.#persisted, firstNew - 1);
      let k = 0;
      while (k < applyLater.length && applyLater[k]!.index <= safe) k++;
      if (k > 0) {
        this.#apply(k === applyLater.length ? applyLater : applyLater.slice(0, k));
        applyLater = k === applyLater.length ? [] : applyLater.slice(k);
      }
    }
    if (rd.hardState !== null && !rd.mustSync && rd.entries.length === 0 && rd.snapshot === null) {
      // A commit-only change need not be durable (etcd MustSync): the commit index is learned
      // again from the leader after a restart. Writing it alone would cost an fdatasync per
      // heartbeat that moves the commit, so it rides along with the next write instead.
      this.#unsavedHard = rd.hardState;
    } else if (rd.entries.length > 0 || rd.hardState !== null) {
      durable = this.#storage.append(rd.entries, rd.hardState ?? this.#unsavedHard ?? undefined);
      this.#unsavedHard = null;
    }
    if (durable !== null) {
      if (rd.mustSync) await durable;
      else durable.catch((err: unknown) => this.#fail(err));
    }
    if (this.#closed) return;
    if (rd.snapshot !== null) this.#persisted = rd.snapshot.meta.index;
    if (rd.entries.length > 0) this.#persisted = rd.entries[rd.entries.length - 1]!.index;
    if (rd.messagesAfterPersist.length > 0) this.transport.send(rd.messagesAfterPersist);
    if (rd.snapshot !== null) this.#installSnapshot(rd.snapshot);
    if (applyLater.length > 0) this.#apply(applyLater);
    for (const rs of rd.readStates) this.#reads.onReadState(rs, this.#applied);
    this.#core.advance();
    this.#observe(rd);
    this.#maybeSnapshot();
  }

  #onSoftState(ss: SoftState): void {
    const prev = this.#soft;
    this.#soft = ss;
    if (ss.lead !== prev.lead) {
      this.#counters.leaderChanges++;
      this.#opts.metrics?.leaderChanges.inc();
      this.#log.info({ leader: ss.lead === '' ? null : ss.lead, raftRole: ss.role, term: this.#core.status().term }, 'Raft leader changed');
    }
    if (ss.lead !== '') this.#proposals.unpark();
    for (const w of this.#leaderWaiters) {
      if (w.to !== ss.lead) continue;
      this.#leaderWaiters.delete(w);
      w.resolve();
    }
    for (const l of this.#listeners) {
      try {
        l(ss.role, ss.lead);
      } catch (err) {
        this.#log.warn({ ...errorFields(err) }, 'Raft leadership listener threw');
      }
    }
  }

  #observe(rd: Ready): void {
    const m = this.#opts.metrics;
    if (m === undefined) return;
    if (rd.hardState !== null) {
      m.term.set(rd.hardState.term);
      m.commitIndex.set(rd.hardState.commit);
    }
    m.appliedIndex.set(this.#applied);
    m.isLeader.set(this.#soft.role === Role.Leader ? 1 : 0);
    m.hasLeader.set(this.#soft.lead === '' ? 0 : 1);
  }

  #apply(entries: Entry[]): void {
    for (const e of entries) {
      if (e.index <= this.#applied) continue;
      if (e.type === EntryType.ConfChange) this.#applyConf(e);
      else this.#applyNormal(e);
      this.#applied = e.index;
      this.#counters.entriesApplied++;
      if (this.#indexWaiters.size > 0) this.#settleIndex(e);
    }
    this.#reads.onApplied(this.#applied);
  }

  #applyNormal(e: Entry): void {
    const d = decodeEntry(e.data);
    const mine = (d.kind === 'command' || d.kind === 'member') && sameTag(d.tag, this.#tag);
    this.#proposals.onApply(e.index, mine ? d.seq : undefined);
    switch (d.kind) {
      case 'noop':
        return;
      case 'command': {
        let result: R;
        try {
          result = this.#sm.apply(e.index, d.command);
        } catch (err) {
          // apply() must not throw; if it does, every replica threw the same way on this entry.
          this.#log.error({ index: e.index, ...errorFields(err) }, 'State machine apply threw');
          if (mine) this.#proposals.reject(d.seq, err instanceof Error ? err : new Error(String(err)));
          return;
        }
        if (mine) this.#proposals.resolve(d.seq, result);
        return;
      }
      case 'member':
        this.#replicated.set(d.id, d.url);
        this.transport.peerChanged(d.id);
        if (mine) this.#proposals.resolve(d.seq, undefined);
        return;
      case 'invalid':
        this.#log.warn({ index: e.index, ...errorFields(d.error) }, 'Raft entry skipped: not a driver entry');
        return;
    }
  }

  #applyConf(e: Entry): void {
    this.#proposals.onApply(e.index, undefined);
    let cc: ConfChange;
    try {
      cc = decodeConfChange(e.data);
    } catch (err) {
      this.#log.warn({ index: e.index, ...errorFields(err) }, 'Raft conf change entry is malformed');
      return;
    }
    const change = cc.type === ConfChangeType.AddNode ? 'add-voter' : cc.type === ConfChangeType.AddLearner ? 'add-learner' : 'remove';
    this.#log.info({ index: e.index, change, member: cc.node }, 'Raft membership changed');
    if (cc.type !== ConfChangeType.RemoveNode) return;
    this.#replicated.delete(cc.node);
    if (cc.node === this.id) this.#log.warn({}, 'This node was removed from the raft cluster');
    else this.transport.removePeer(cc.node);
  }

  #settleIndex(e: Entry): void {
    const w = this.#indexWaiters.get(e.index);
    if (w === undefined) return;
    this.#indexWaiters.delete(e.index);
    if (e.type === EntryType.ConfChange && sameBytes(e.data, w.data)) w.resolve();
    else w.reject(codedError(Error, ErrorCode.PROPOSAL_DROPPED, `The change at index ${e.index} was replaced after a leader change`));
  }

  #installSnapshot(s: Snapshot): void {
    const { members, machine } = decodeSnapshotData(s.data);
    this.#sm.restore(machine);
    this.#replicated = members;
    for (const id of members.keys()) this.transport.peerChanged(id);
    this.#applied = s.meta.index;
    this.#snapshotIndex = s.meta.index;
    this.#counters.snapshotsInstalled++;
    this.#proposals.onSnapshot(s.meta.index);
    for (const [index, w] of this.#indexWaiters) {
      if (index > s.meta.index) continue;
      this.#indexWaiters.delete(index);
      w.reject(codedError(Error, ErrorCode.TIMEOUT, `A snapshot covered index ${index}; the change's outcome is unknown`));
    }
    this.#reads.onApplied(this.#applied);
    this.#log.info({ index: s.meta.index, term: s.meta.term, bytes: s.data.length }, 'Raft snapshot installed from the leader');
  }

  #maybeSnapshot(): void {
    if (this.#snapshotting || this.#applied - this.#snapshotIndex < this.#t.snapshotThreshold) return;
    const data = encodeSnapshotData(this.#replicated, this.#sm.snapshot());
    const snap = this.#core.takeSnapshot(data);
    if (snap === null) return;
    this.#snapshotIndex = snap.meta.index;
    this.#counters.snapshotsTaken++;
    this.#snapshotting = true;
    // Queued in the storage's order: later appends are written after the snapshot file.
    this.#storage
      .saveSnapshot(snap)
      .then(() => this.#storage.compact())
      .then(
        () => {
          this.#snapshotting = false;
          this.#log.debug({ index: snap.meta.index, bytes: data.length }, 'Raft snapshot taken');
        },
        (err: unknown) => this.#fail(err),
      );
  }

  // ---- cluster control -----------------------------------------------------------------

  #controlHost(): ControlHost {
    return {
      id: this.id,
      defaultTimeoutMs: this.#t.proposalTimeoutMs,
      logger: this.#log,
      role: () => this.#soft.role,
      leader: () => this.#soft.lead,
      memberUrl: (id) => this.memberUrl(id),
      status: () => this.#core.status(),
      sendControl: (to, kind, body) => this.transport.sendPayload(to, kind, body),
      notLeader: () => notLeaderError(this.id, this.#soft.lead, this.memberUrl(this.#soft.lead)),
      barrier: (signal) => this.read(signal),
      proposeMember: (id, url, signal) => {
        const refused = this.#refuse(signal, 'Raft member update');
        if (refused !== null) return Promise.reject(refused);
        const seq = ++this.#seq;
        return this.#proposeData(seq, encodeMemberEntry(this.#tag, seq, id, url), signal).then(() => undefined);
      },
      proposeConfChange: (cc, signal) => this.#proposeConfChange(cc, signal),
      transfer: (to, signal) => this.#transfer(to, signal),
    };
  }

  #proposeConfChange(cc: ConfChange, signal: AbortSignal | undefined): Promise<void> {
    const refused = this.#refuse(signal, 'Raft membership change');
    if (refused !== null) return Promise.reject(refused);
    try {
      this.#core.proposeConfChange(cc);
    } catch (err) {
      return Promise.reject(err);
    }
    const index = this.#core.status().lastIndex;
    const data = encodeConfChange(cc);
    this.#schedule();
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        if (this.#indexWaiters.get(index) !== w) return;
        this.#indexWaiters.delete(index);
        reject(abortedError(signal!, 'Raft membership change'));
      };
      const w: IndexWaiter = {
        data,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#indexWaiters.set(index, w);
    });
  }

  #transfer(to: NodeId, signal: AbortSignal | undefined): Promise<void> {
    const refused = this.#refuse(signal, 'Leadership transfer');
    if (refused !== null) return Promise.reject(refused);
    try {
      this.#core.transferLeader(to);
    } catch (err) {
      return Promise.reject(err);
    }
    if (to === this.id) return Promise.resolve();
    this.#schedule();
    // The core abandons a transfer after an election timeout; wait a little longer than that.
    const deadline = Date.now() + this.#t.tickIntervalMs * this.#t.electionTicks * 3;
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#leaderWaiters.delete(w);
        reject(abortedError(signal!, 'Leadership transfer'));
      };
      const w: LeaderWaiter = {
        to,
        deadline,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#leaderWaiters.add(w);
    });
  }

  // ---- failure -------------------------------------------------------------------------

  #rejectEverything(err: Error): void {
    this.#proposals.rejectAll(err);
    this.#reads.rejectAll(err);
    this.#control.rejectAll(err);
    for (const w of this.#indexWaiters.values()) w.reject(err);
    this.#indexWaiters.clear();
    for (const w of this.#leaderWaiters) w.reject(err);
    this.#leaderWaiters.clear();
  }

  #fail(cause: unknown): void {
    if (this.#failed !== null || this.#closed) return;
    const err = cause instanceof Error ? cause : new Error(String(cause));
    this.#failed = err;
    clearInterval(this.#timer);
    this.#log.error({ ...errorFields(err) }, 'Raft node stopped on a fatal error');
    this.#rejectEverything(err);
    void this.transport.close();
    this.#opts.onFatal?.(err);
  }
}

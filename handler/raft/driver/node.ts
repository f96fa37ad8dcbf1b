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
import { createPrng, encodeConfChange, RaftCore, type RaftStatus, type StoredState } from '../core/index.ts';
import { openRaftStorage, type RaftStorage, type RecoveredState } from '../storage/index.ts';
import { RaftTransport } from '../transport/transport.ts';
import { errorFields, silentLogger, type RaftLogger } from '../transport/logger.ts';
import type { ConfChange, HardState, Message, NodeId, Ready, SoftState } from '../types.ts';
import { Role } from '../types.ts';
import { Applier } from './applier.ts';
import { ChangeWaiters } from './change-waiters.ts';
import { ClusterController, type ControlHost } from './control.ts';
import { encodeCommandEntry, encodeMemberEntry, TAG_BYTES } from './envelope.ts';
import { resolveNodeOptions, type RaftNodeOptions, type RaftStateMachine, type ResolvedNodeTimings } from './options.ts';
import { ReadTracker } from './read-tracker.ts';
import { clusterStatus, updateRaftMetrics, type RaftNodeStats } from './status.ts';
import { abortedError } from './wait-list.ts';
import { notLeaderError } from './not-leader.ts';
import { Proposals } from './proposals.ts';

/** Listener of leadership changes: our role and the known leader ('' for none). */
export type LeadershipListener = (role: Role, leader: NodeId) => void;

function randomBytes(n: number): Uint8Array {
  return globalThis.crypto.getRandomValues(new Uint8Array(n));
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
  readonly #changes = new ChangeWaiters();
  readonly #applier: Applier<R>;
  readonly #control: ClusterController;
  readonly #configPeers: Map<NodeId, string>;
  #snapshotIndex: number;
  #snapshotting = false;
  /** Index of the last entry known durable in our WAL. */
  #persisted: number;
  /** The latest commit-only hard state not written yet (see #handleReady). */
  #unsavedHard: HardState | null = null;
  #ticks = 0;
  #soft: SoftState = { lead: '', role: Role.Follower };
  /** Started with no other peer and not joining: may campaign at once as the sole voter. */
  readonly #configuredAlone: boolean;
  #timer: ReturnType<typeof setInterval> | undefined;
  #pumping = false;
  #scheduled = false;
  #idle: Promise<void> = Promise.resolve();
  #closed = false;
  #failed: Error | null = null;
  readonly #listeners = new Set<LeadershipListener>();
  readonly #counters = { snapshotsTaken: 0, leaderChanges: 0, readies: 0 };

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
    this.#configuredAlone = options.join !== true && peers.every((p) => p.id === options.id);
    const empty = rec.hardState.term === 0 && rec.snapshot === null && rec.entries.length === 0;
    const stored: StoredState | undefined = empty ? undefined : { hardState: rec.hardState, snapshot: rec.snapshot, entries: rec.entries };
    this.#persisted = storage.lastIndex;
    this.#snapshotIndex = rec.snapshot?.meta.index ?? 0;
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
    this.#applier = new Applier<R>(
      {
        id: options.id,
        tag: this.#tag,
        machine: this.#sm,
        proposals: this.#proposals,
        reads: this.#reads,
        changes: this.#changes,
        logger: this.#log,
        peerChanged: (id) => this.transport.peerChanged(id),
        peerRemoved: (id) => this.transport.removePeer(id),
      },
      rec.snapshot,
    );
    this.#log.info(
      { term: rec.hardState.term, commit: rec.hardState.commit, snapshot: this.#snapshotIndex, entries: rec.entries.length, bootstrap: empty && initialVoters.length > 0 },
      'Raft node recovered',
    );
  }

  #start(): void {
    this.#timer = setInterval(() => this.#tick(), this.#t.tickIntervalMs);
    this.#campaignIfAlone();
    this.#schedule();
  }

  /**
   * A node configured alone (no other peer, not joining) that is the sole voter needs nobody's
   * vote: no reason to wait out an election timeout. Checked at start and after every Ready,
   * because a first start only becomes the sole voter once its bootstrap entry is applied. A
   * joining node never takes this path: replaying a cluster's history it can pass through an
   * old membership that named only its id (a replaced single founder) while others lead.
   */
  #campaignIfAlone(): void {
    if (this.#configuredAlone) this.#core.campaignIfSoleVoter();
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
    return clusterStatus(this.#core.status(), this.#applier.applied, (id) => this.memberUrl(id));
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
      appliedIndex: this.#applier.applied,
      firstIndex: st.firstIndex,
      lastIndex: st.lastIndex,
      snapshotIndex: this.#snapshotIndex,
      ...this.#counters,
      snapshotsInstalled: this.#applier.snapshotsInstalled,
      entriesApplied: this.#applier.entriesApplied,
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
    return this.#applier.members.get(id) ?? this.#configPeers.get(id);
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
    this.#changes.expire(now);
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
        this.#applier.apply(k === applyLater.length ? applyLater : applyLater.slice(0, k));
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
    if (rd.snapshot !== null) {
      this.#applier.install(rd.snapshot);
      this.#snapshotIndex = rd.snapshot.meta.index;
    }
    if (applyLater.length > 0) this.#applier.apply(applyLater);
    for (const rs of rd.readStates) this.#reads.onReadState(rs, this.#applier.applied);
    this.#core.advance();
    this.#campaignIfAlone();
    if (this.#opts.metrics !== undefined) updateRaftMetrics(this.#opts.metrics, rd.hardState, this.#applier.applied, this.#soft);
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
    this.#changes.onLeader(ss.lead);
    for (const l of this.#listeners) {
      try {
        l(ss.role, ss.lead);
      } catch (err) {
        this.#log.warn({ ...errorFields(err) }, 'Raft leadership listener threw');
      }
    }
  }

  #maybeSnapshot(): void {
    if (this.#snapshotting || this.#applier.applied - this.#snapshotIndex < this.#t.snapshotThreshold) return;
    const data = this.#applier.snapshotData();
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
    this.#schedule();
    return this.#changes.change(index, encodeConfChange(cc), signal);
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
    return this.#changes.transfer(to, Date.now() + this.#t.tickIntervalMs * this.#t.electionTicks * 3, signal);
  }

  // ---- failure -------------------------------------------------------------------------

  #rejectEverything(err: Error): void {
    this.#proposals.rejectAll(err);
    this.#reads.rejectAll(err);
    this.#control.rejectAll(err);
    this.#changes.rejectAll(err);
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

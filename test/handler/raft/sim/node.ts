/**
 * The simulated driver of one Raft node: it owns the core, a SimDisk and the KV state machine,
 * and follows the Ready contract (write, fsync when mustSync, then send the dependent messages,
 * apply, advance). The fsync takes virtual time, so messages and ticks keep arriving while a
 * Ready is outstanding, and a crash in that window tears the unsynced write.
 */
import { RaftCore } from '../../../../handler/raft/core/raft.ts';
import type { RaftConfig } from '../../../../handler/raft/core/config.ts';
import { createPrng, type Prng } from '../../../../handler/raft/core/prng.ts';
import { contextKey } from '../../../../handler/raft/core/read-only.ts';
import type { Entry, Message, NodeId, Ready } from '../../../../handler/raft/types.ts';
import { EntryType, Role } from '../../../../handler/raft/types.ts';
import { SimDisk } from './disk.ts';
import { KvStore, decodeCommand, encodeCommand, type KvCommand, type KvResult } from './kv.ts';
import type { EventQueue } from './event-queue.ts';
import type { Invariants } from './invariants.ts';

/** What a node needs from the simulation around it. */
export interface NodeContext {
  queue: EventQueue;
  rng: Prng;
  invariants: Invariants;
  send(m: Message): void;
  trace(line: () => string): void;
  /** Core settings shared by every node of the run (id, random and bootstrap are per node). */
  raft: Omit<RaftConfig, 'id' | 'random'>;
  fsyncDelay(): number;
  snapshotEvery: number;
  /** Fault injection: every disk's fsync lies (tests that the checks catch lost writes). */
  lyingDisks: boolean;
  /** A command took effect in some state machine (first application only). */
  commandApplied(client: number, seq: number): void;
}

type CommandWaiter = (r: KvResult) => void;

interface ReadWaiter {
  key: string;
  respond: (value: string | undefined) => void;
}

/** One simulated node. */
export class SimNode {
  readonly id: NodeId;
  readonly disk = new SimDisk();
  core: RaftCore | null = null;
  kv = new KvStore();
  /** Bumped on every crash, so callbacks scheduled by an earlier life are ignored. */
  incarnation = 0;
  /** Removed from the cluster and shut down for good. */
  decommissioned = false;
  appliedIndex = 0;
  private busy = false;
  private lastSnapIndex = 0;
  private readonly initialVoters: NodeId[];
  private readonly ctx: NodeContext;
  private readonly seed: number;
  private readonly cmdWaiters = new Map<string, CommandWaiter>();
  private readonly readWaiters = new Map<string, ReadWaiter>();
  private readsToServe: { index: number; waiter: ReadWaiter }[] = [];
  crashes = 0;
  snapshotsInstalled = 0;

  constructor(id: NodeId, initialVoters: NodeId[], seed: number, ctx: NodeContext) {
    this.id = id;
    this.initialVoters = initialVoters;
    this.seed = seed;
    this.ctx = ctx;
    this.disk.lies = ctx.lyingDisks;
  }

  get alive(): boolean {
    return this.core !== null;
  }

  /** Starts (or restarts) from what the disk holds. */
  start(): void {
    const stored = this.disk.load();
    const rng: Prng = createPrng(this.seed + this.incarnation * 0x9e3779b1);
    this.core = new RaftCore({ ...this.ctx.raft, id: this.id, random: rng.float, initialVoters: this.initialVoters }, stored);
    this.kv = stored.snapshot ? KvStore.restore(stored.snapshot.data) : new KvStore();
    this.appliedIndex = stored.snapshot?.meta.index ?? 0;
    this.lastSnapIndex = this.appliedIndex;
    const st = this.core.status();
    this.ctx.invariants.restarted(this.id, st.commit, this.disk.syncedCommit, st.firstIndex, this.core);
    this.ctx.trace(() => `${this.id} start term=${st.term} commit=${st.commit} last=${st.lastIndex}`);
    this.pump();
  }

  /** Power loss: volatile state is gone, the disk keeps synced data and maybe a torn tail. */
  crash(): void {
    if (this.core === null) return;
    this.core = null;
    this.incarnation++;
    this.crashes++;
    this.busy = false;
    this.cmdWaiters.clear();
    this.readWaiters.clear();
    this.readsToServe = [];
    this.disk.crash(this.ctx.rng);
    this.ctx.trace(() => `${this.id} crash`);
  }

  tick(): void {
    if (this.core === null) return;
    this.core.tick();
    this.pump();
  }

  receive(m: Message): void {
    if (this.core === null) return;
    this.core.step(m);
    this.pump();
  }

  /** Proposes a client command; `fail` runs when this node cannot take it. */
  submitCommand(cmd: KvCommand, respond: CommandWaiter, fail: (lead: NodeId) => void): void {
    const core = this.core;
    if (core === null || this.decommissioned) return fail('');
    try {
      core.propose(encodeCommand(cmd));
    } catch {
      return fail(core.status().lead);
    }
    this.cmdWaiters.set(`${cmd.client}:${cmd.seq}`, respond);
    this.pump();
  }

  /** Starts a linearizable read through ReadIndex. */
  submitRead(key: string, context: Uint8Array, respond: (value: string | undefined) => void, fail: (lead: NodeId) => void): void {
    const core = this.core;
    if (core === null || this.decommissioned) return fail('');
    try {
      core.readIndex(context);
    } catch {
      return fail(core.status().lead);
    }
    this.readWaiters.set(contextKey(context), { key, respond });
    this.pump();
  }

  /** Drains Readies until one needs an fsync, which completes after a virtual delay. */
  pump(): void {
    while (this.core !== null && !this.busy && this.core.hasReady()) {
      const core = this.core;
      const rd = core.ready();
      this.busy = true;
      this.checkReady(core, rd);
      this.disk.write(rd);
      for (const m of rd.messages) this.ctx.send(m);
      if (rd.mustSync) {
        const life = this.incarnation;
        this.ctx.queue.after(this.ctx.fsyncDelay(), () => {
          if (life !== this.incarnation) return;
          this.disk.sync();
          this.finish(core, rd);
          this.pump();
        });
        return;
      }
      this.finish(core, rd);
    }
  }

  private checkReady(core: RaftCore, rd: Ready): void {
    const inv = this.ctx.invariants;
    if (rd.softState !== null) {
      const st = core.status();
      this.ctx.trace(() => `${this.id} ${st.role} term=${st.term} lead=${st.lead}`);
      if (rd.softState.role === Role.Leader) inv.leaderElected(this.id, st.term, core, st.firstIndex);
    }
    if (rd.entries.length > 0) inv.entriesPersisted(this.id, rd.entries, core.termAt(rd.entries[0]!.index - 1)!);
    if (rd.hardState !== null) inv.commitAdvanced(this.id, rd.hardState.commit, core);
    if (rd.snapshot !== null) inv.snapshotSeen(this.id, rd.snapshot);
  }

  private finish(core: RaftCore, rd: Ready): void {
    for (const m of rd.messagesAfterPersist) this.ctx.send(m);
    if (rd.snapshot !== null) {
      this.kv = KvStore.restore(rd.snapshot.data);
      this.appliedIndex = rd.snapshot.meta.index;
      this.lastSnapIndex = this.appliedIndex;
      this.snapshotsInstalled++;
      this.ctx.trace(() => `${this.id} installed snapshot @${rd.snapshot!.meta.index}`);
    }
    for (const e of rd.committedEntries) this.apply(e);
    for (const rs of rd.readStates) {
      const w = this.readWaiters.get(contextKey(rs.context));
      if (w === undefined) continue;
      this.readWaiters.delete(contextKey(rs.context));
      this.readsToServe.push({ index: rs.index, waiter: w });
    }
    core.advance();
    this.busy = false;
    this.serveReads();
    if (this.appliedIndex - this.lastSnapIndex >= this.ctx.snapshotEvery) {
      const snap = core.takeSnapshot(this.kv.serialize());
      if (snap === null) return;
      this.disk.saveSnapshot(snap);
      this.ctx.invariants.snapshotSeen(this.id, snap);
      this.lastSnapIndex = snap.meta.index;
      this.ctx.trace(() => `${this.id} snapshot @${snap.meta.index}`);
    }
  }

  private apply(e: Entry): void {
    this.ctx.invariants.entryApplied(this.id, e);
    this.appliedIndex = e.index;
    if (e.type !== EntryType.Normal || e.data.length === 0) return;
    const cmd = decodeCommand(e.data);
    const result = this.kv.apply(cmd);
    if (result.applied) this.ctx.commandApplied(cmd.client, cmd.seq);
    const key = `${cmd.client}:${cmd.seq}`;
    const waiter = this.cmdWaiters.get(key);
    if (waiter === undefined || !result.applied) return;
    this.cmdWaiters.delete(key);
    if (cmd.op !== 'get') this.ctx.invariants.writeAcked(this.id, e);
    waiter(result);
  }

  private serveReads(): void {
    if (this.readsToServe.length === 0) return;
    const waiting: { index: number; waiter: ReadWaiter }[] = [];
    for (const r of this.readsToServe) {
      if (r.index <= this.appliedIndex) r.waiter.respond(this.kv.get(r.waiter.key));
      else waiting.push(r);
    }
    this.readsToServe = waiting;
  }
}


/**
 * A synchronous in-memory cluster for unit tests (in the spirit of etcd-io/raft's `network` in
 * raft_test.go): every Ready is persisted to a MemStorage, its messages queued, its committed
 * entries recorded, then advanced. Messages are delivered FIFO; filters drop or rewrite them.
 */
import { RaftCore, type StoredState } from '../../../../handler/raft/core/raft.ts';
import type { RaftConfig } from '../../../../handler/raft/core/config.ts';
import { createPrng } from '../../../../handler/raft/core/prng.ts';
import type { Entry, HardState, Message, NodeId, ReadState, Ready, Snapshot } from '../../../../handler/raft/types.ts';
import { emptyHardState } from '../../../../handler/raft/types.ts';

/** What a node has on its (perfect) disk. */
export class MemStorage {
  hardState: HardState = emptyHardState();
  snapshot: Snapshot | null = null;
  entries: Entry[] = [];

  save(rd: Ready): void {
    if (rd.snapshot !== null) {
      this.snapshot = rd.snapshot;
      this.entries = [];
    }
    if (rd.entries.length > 0) {
      const first = rd.entries[0]!.index;
      const keep = this.entries.findIndex((e) => e.index >= first);
      if (keep >= 0) this.entries.length = keep;
      this.entries.push(...rd.entries);
    }
    if (rd.hardState !== null) this.hardState = rd.hardState;
  }

  stored(): StoredState {
    return { hardState: { ...this.hardState }, snapshot: this.snapshot, entries: this.entries.slice() };
  }
}

/** One node: core, disk and what it applied. */
export interface TestNode {
  id: NodeId;
  core: RaftCore;
  storage: MemStorage;
  applied: Entry[];
  /** The toy state machine: normal non-empty payloads applied so far (restored from snapshots). */
  sm: string[];
  readStates: ReadState[];
  readies: Ready[];
}

/** Returns false to drop a message; may mutate it first. */
export type Filter = (m: Message) => boolean;

const text = new TextEncoder();
/** Bytes of a string (test payloads). */
export const bytes = (s: string): Uint8Array => text.encode(s);
/** String of bytes. */
export const str = (b: Uint8Array): string => new TextDecoder().decode(b);

/** A cluster of cores wired by a FIFO queue. */
export class Net {
  readonly nodes = new Map<NodeId, TestNode>();
  readonly queue: Message[] = [];
  readonly down = new Set<NodeId>();
  filters: Filter[] = [];
  /** Every message delivered, for assertions. */
  delivered: Message[] = [];
  private readonly overrides: Partial<RaftConfig>;
  private seed = 1;

  constructor(voters: NodeId[], overrides: Partial<RaftConfig> = {}, learners: NodeId[] = []) {
    this.overrides = overrides;
    for (const id of [...voters, ...learners]) this.add(id, voters, learners);
    // Persist and apply the bootstrap conf entries so that nodes can campaign.
    this.stabilize();
  }

  /** Adds a node; founding members pass the founding voters, joiners pass []. */
  add(id: NodeId, initialVoters: NodeId[], initialLearners: NodeId[] = []): TestNode {
    const node: TestNode = {
      id,
      core: this.makeCore(id, { initialVoters, initialLearners }),
      storage: new MemStorage(),
      applied: [],
      sm: [],
      readStates: [],
      readies: [],
    };
    this.nodes.set(id, node);
    return node;
  }

  private makeCore(id: NodeId, extra: Partial<RaftConfig>, stored?: StoredState): RaftCore {
    const rng = createPrng(this.seed++ * 7919);
    return new RaftCore({ electionTick: 10, heartbeatTick: 1, ...this.overrides, ...extra, id, random: rng.float }, stored);
  }

  node(id: NodeId): TestNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  core(id: NodeId): RaftCore {
    return this.node(id).core;
  }

  /** Processes one Ready of one node: persist, queue messages, record applies, advance. */
  processReady(id: NodeId): boolean {
    const n = this.node(id);
    if (this.down.has(id) || !n.core.hasReady()) return false;
    const rd = n.core.ready();
    n.readies.push(rd);
    n.storage.save(rd);
    this.queue.push(...rd.messages, ...rd.messagesAfterPersist);
    if (rd.snapshot !== null) n.sm = JSON.parse(str(rd.snapshot.data)) as string[];
    n.applied.push(...rd.committedEntries);
    for (const e of rd.committedEntries) if (e.type === 0 && e.data.length > 0) n.sm.push(str(e.data));
    n.readStates.push(...rd.readStates);
    n.core.advance();
    return true;
  }

  /** Runs readies and deliveries until nothing moves (bounded). */
  stabilize(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      let moved = false;
      for (const id of this.nodes.keys()) while (this.processReady(id)) moved = true;
      const batch = this.queue.splice(0);
      for (const m of batch) {
        moved = true;
        this.deliver(m);
      }
      if (!moved) return;
    }
    throw new Error('cluster did not stabilize');
  }

  deliver(m: Message): void {
    if (this.down.has(m.to) || this.down.has(m.from) || !this.nodes.has(m.to)) return;
    for (const f of this.filters) if (!f(m)) return;
    this.delivered.push(m);
    this.node(m.to).core.step(m);
  }

  /** Ticks one node `n` times, stabilizing after each tick. */
  tick(id: NodeId, n = 1): void {
    for (let i = 0; i < n; i++) {
      this.core(id).tick();
      this.stabilize();
    }
  }

  /** Ticks every live node `n` times, stabilizing after each round. */
  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) {
      for (const [id, node] of this.nodes) if (!this.down.has(id)) node.core.tick();
      this.stabilize();
    }
  }

  /** Makes `id` campaign right away and stabilizes. */
  campaign(id: NodeId): void {
    this.core(id).campaign();
    this.stabilize();
  }

  /** Drops every message to or from `id` (a crash, keeping its disk). */
  crash(id: NodeId): void {
    this.down.add(id);
  }

  /** Restarts `id` from what its storage holds, losing all volatile state. */
  restart(id: NodeId): void {
    const n = this.node(id);
    this.down.delete(id);
    n.core = this.makeCore(id, {}, n.storage.stored());
    n.applied = [];
    n.sm = n.storage.snapshot ? (JSON.parse(str(n.storage.snapshot.data)) as string[]) : [];
    // Like a driver at startup: re-apply the committed log (membership included).
    while (this.processReady(id));
  }

  /** Drops messages between the two groups, both ways. */
  partition(a: NodeId[], b: NodeId[]): void {
    const A = new Set(a);
    const B = new Set(b);
    this.filters.push((m) => !((A.has(m.from) && B.has(m.to)) || (B.has(m.from) && A.has(m.to))));
  }

  heal(): void {
    this.filters = [];
  }

  leader(): NodeId | undefined {
    for (const [id, n] of this.nodes) if (!this.down.has(id) && n.core.status().role === 'leader') return id;
    return undefined;
  }

  /** Applied normal (non-empty) payloads of a node, as strings. */
  appliedData(id: NodeId): string[] {
    return this.node(id).sm;
  }

  /** Snapshots the toy state machine of `id`, persists it and compacts its stored log. */
  snapshot(id: NodeId): Snapshot {
    const n = this.node(id);
    const snap = n.core.takeSnapshot(bytes(JSON.stringify(n.sm)));
    if (snap === null) throw new Error('a received snapshot is pending installation');
    n.storage.snapshot = snap;
    n.storage.entries = n.storage.entries.filter((e) => e.index > snap.meta.index);
    return snap;
  }
}

/**
 * One seeded run of a simulated Raft cluster: nodes, lossy network, clients and a fault
 * schedule on virtual time, single-threaded. Every parameter and every random choice comes
 * from the seed, so a seed replays the identical trace. The run has two phases: chaos (faults
 * of every kind, membership changes and leader transfers), then calm (all healed and restarted)
 * in which a leader must emerge and a new write must commit within a bound.
 */
import { createPrng, type Prng } from '../../../../handler/raft/core/prng.ts';
import type { Message, NodeId } from '../../../../handler/raft/types.ts';
import { ConfChangeType, Role } from '../../../../handler/raft/types.ts';
import { analyzeOperations, describeReport, kvModel } from '../../../support/linearizability/index.ts';
import { EventQueue } from './event-queue.ts';
import { SimNetwork, type NetworkFaults } from './network.ts';
import { SimNode, type NodeContext } from './node.ts';
import { Invariants, InvariantViolation } from './invariants.ts';
import { SimClient } from './clients.ts';
import { Tracer } from './tracer.ts';

/** How to run one seed. */
export interface SimOptions {
  seed: number;
  /** Keep a readable trace of every event. */
  verbose?: boolean;
  /** Virtual milliseconds of chaos before healing. Default 2500. */
  chaosMs?: number;
  /** Fault injection to test the checks themselves: disks whose fsync does nothing. */
  lyingDisks?: boolean;
}

/** Counters reported for a run. */
export interface SimStats {
  voters: number;
  events: number;
  virtualMs: number;
  messages: number;
  dropped: number;
  crashes: number;
  tornWrites: number;
  confChanges: number;
  transfers: number;
  snapshotsInstalled: number;
  leaderElections: number;
  opsCompleted: number;
  opsUnknown: number;
  committed: number;
  /** Virtual ms from heal to the first acknowledged write after it. */
  recoveryMs: number;
  invariantChecks: number;
}

/** The outcome of one seed. */
export interface SimResult {
  seed: number;
  ok: boolean;
  /** What failed: an invariant, liveness, linearizability or an exception. */
  failure: string | null;
  /** Hash of the whole event trace: equal seeds give equal hashes. */
  traceHash: string;
  stats: SimStats;
  trace: string[];
}

/** Virtual ms after healing within which a leader must commit a new write. */
export const LIVENESS_BOUND_MS = 3000;
const TICK_MS = 10;
const MAX_EVENTS = 2_000_000;
const KEYS = ['x', 'y', 'z'];

class LivenessFailure extends Error {}

/** Runs one seed to completion and reports; never throws. */
export function runSimulation(opts: SimOptions): SimResult {
  const sim = new Simulation(opts);
  return sim.run();
}

class Simulation {
  private readonly seed: number;
  private readonly rng: Prng;
  private readonly queue = new EventQueue();
  private readonly tracer: Tracer;
  private readonly invariants = new Invariants();
  private readonly nodes = new Map<NodeId, SimNode>();
  private readonly net: SimNetwork;
  private readonly clients: SimClient[] = [];
  private readonly chaosMs: number;
  private readonly ctx: NodeContext;
  private nextId: number;
  private healed = false;
  private healAt = 0;
  private recoveredAt = -1;
  private liveness: SimClient | null = null;
  private readonly appliedOps = new Set<string>();
  private readonly stats: SimStats;

  constructor(opts: SimOptions) {
    this.seed = opts.seed;
    this.rng = createPrng(opts.seed);
    this.tracer = new Tracer(opts.verbose ?? false, this.queue);
    this.chaosMs = opts.chaosMs ?? 2500;
    const rng = this.rng;
    const voters = rng.chance(0.5) ? 3 : 5;
    const faults: NetworkFaults = {
      dropRate: rng.float() * 0.1,
      dupRate: rng.float() * 0.05,
      minDelay: 0.5,
      maxDelay: 2 + rng.float() * 6,
      longDelayRate: rng.float() * 0.05,
      longDelay: 20 + rng.float() * 80,
    };
    this.net = new SimNetwork(rng, this.queue, faults, (m) => this.deliver(m));
    const features = rng.float();
    this.ctx = {
      queue: this.queue,
      rng,
      invariants: this.invariants,
      send: (m) => this.send(m),
      trace: (line) => this.tracer.text(line),
      raft: {
        electionTick: 10,
        heartbeatTick: 2,
        // Mostly the production settings; some runs switch a feature off to cover the paths
        // without it (safety must hold either way).
        preVote: features < 0.85 || features > 0.95,
        checkQuorum: features < 0.9,
        maxSizePerMsg: 128 + rng.int(2048),
        maxInflightMsgs: 1 + rng.int(16),
        snapshotChunkBytes: 32 + rng.int(512),
        maxInflightSnapshotChunks: 1 + rng.int(4),
        compactionMargin: rng.int(30),
        maxUncommittedBytes: 1 << 20,
      },
      fsyncDelay: () => 0.2 + rng.float() * 2,
      snapshotEvery: 10 + rng.int(60),
      lyingDisks: opts.lyingDisks ?? false,
      commandApplied: (client, seq) => this.appliedOps.add(`${client}:${seq}`),
    };
    const ids = Array.from({ length: voters }, (_, i) => `n${i + 1}`);
    for (const id of ids) this.addNode(id, ids);
    this.nextId = voters + 1;
    this.stats = {
      voters,
      events: 0,
      virtualMs: 0,
      messages: 0,
      dropped: 0,
      crashes: 0,
      tornWrites: 0,
      confChanges: 0,
      transfers: 0,
      snapshotsInstalled: 0,
      leaderElections: 0,
      opsCompleted: 0,
      opsUnknown: 0,
      committed: 0,
      recoveryMs: -1,
      invariantChecks: 0,
    };
    this.tracer.text(() => `seed=${this.seed} voters=${voters} faults=${JSON.stringify(faults)} raft=${JSON.stringify(this.ctx.raft)}`);
  }

  run(): SimResult {
    let failure: string | null = null;
    try {
      for (const n of this.nodes.values()) n.start();
      const clientCtx = {
        queue: this.queue,
        rng: this.rng,
        nodes: () => [...this.nodes.values()],
        node: (id: NodeId) => this.nodes.get(id),
        trace: (line: () => string) => this.tracer.text(line),
      };
      for (let c = 1; c <= 3; c++) {
        const client = new SimClient(c, clientCtx, { keys: KEYS, attemptTimeout: 150, maxAttempts: 6, readIndexShare: 0.5 });
        this.clients.push(client);
        client.start(20 + this.rng.int(50));
      }
      this.scheduleFault(50);
      this.queue.after(this.chaosMs, () => this.heal());
      const end = this.chaosMs + LIVENESS_BOUND_MS;
      while (this.queue.runNext(end)) {
        if (this.queue.steps > MAX_EVENTS) throw new LivenessFailure(`more than ${MAX_EVENTS} events`);
        if (this.recoveredAt >= 0 && this.queue.now > this.recoveredAt + 300) break;
      }
      if (this.recoveredAt < 0) {
        throw new LivenessFailure(`no write committed within ${LIVENESS_BOUND_MS} ms after healing (${this.describeCluster()})`);
      }
      for (const c of this.clients) {
        c.stop();
        c.abandon();
      }
      this.finalChecks();
      this.checkLinearizable();
    } catch (err) {
      if (err instanceof InvariantViolation) failure = `invariant violated: ${err.message}`;
      else if (err instanceof LivenessFailure) failure = `liveness: ${err.message}`;
      else failure = `exception: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;
      this.tracer.text(() => `FAILED ${failure}`);
    }
    this.collectStats();
    return {
      seed: this.seed,
      ok: failure === null,
      failure,
      traceHash: this.tracer.digest(),
      stats: this.stats,
      trace: this.tracer.lines,
    };
  }

  // ------------------------------------------------------------------ plumbing

  private addNode(id: NodeId, initialVoters: NodeId[]): SimNode {
    const node = new SimNode(id, initialVoters, (this.seed ^ (this.nodes.size + 1) * 0x27d4eb2d) >>> 0, this.ctx);
    this.nodes.set(id, node);
    const phase = this.rng.float() * TICK_MS;
    const tick = () => {
      if (node.decommissioned) return;
      node.tick();
      // Clocks drift a little: each tick interval varies by +-5%.
      this.queue.after(TICK_MS * (0.95 + this.rng.float() * 0.1), tick);
    };
    this.queue.after(phase, tick);
    return node;
  }

  private send(m: Message): void {
    this.tracer.event(1, m.type, m.term, m.index);
    this.net.send(m);
  }

  private deliver(m: Message): void {
    const node = this.nodes.get(m.to);
    this.tracer.event(2, m.type, m.term, m.index);
    if (node === undefined || node.decommissioned) return;
    node.receive(m);
  }

  private liveNodes(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.alive && !n.decommissioned);
  }

  /** The live leader with the highest term, if any. */
  private leader(): SimNode | undefined {
    let best: SimNode | undefined;
    let bestTerm = -1;
    for (const n of this.liveNodes()) {
      const st = n.core!.status();
      if (st.role === Role.Leader && st.term > bestTerm) {
        best = n;
        bestTerm = st.term;
      }
    }
    return best;
  }

  private describeCluster(): string {
    return [...this.nodes.values()]
      .map((n) => {
        if (n.decommissioned) return `${n.id}:removed`;
        if (!n.alive) return `${n.id}:down`;
        const st = n.core!.status();
        return `${n.id}:${st.role}/t${st.term}/c${st.commit}/l${st.lastIndex}/v[${st.conf.voters.join(',')}]`;
      })
      .join(' ');
  }

  // ------------------------------------------------------------------ faults

  private scheduleFault(delay: number): void {
    this.queue.after(delay, () => {
      if (this.healed) return;
      this.injectFault();
      this.scheduleFault(30 + this.rng.int(220));
    });
  }

  private injectFault(): void {
    const rng = this.rng;
    const all = [...this.nodes.values()].filter((n) => !n.decommissioned);
    const ids = all.map((n) => n.id);
    const pick = <T>(xs: T[]): T | undefined => (xs.length === 0 ? undefined : xs[rng.int(xs.length)]);
    const r = rng.float();
    if (r < 0.12) {
      // Symmetric partition into two groups.
      // Fisher-Yates with the run's PRNG (a random sort comparator is engine-dependent).
      const shuffled = ids.slice();
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      const k = 1 + rng.int(Math.max(1, ids.length - 1));
      this.net.partition(shuffled.slice(0, k), shuffled.slice(k));
      this.tracer.text(() => `fault: partition [${shuffled.slice(0, k)}] | [${shuffled.slice(k)}]`);
    } else if (r < 0.2) {
      const a = pick(ids);
      const b = pick(ids.filter((x) => x !== a));
      if (a !== undefined && b !== undefined) {
        this.net.cutLink(a, b);
        this.tracer.text(() => `fault: one-way cut ${a} -> ${b}`);
      }
    } else if (r < 0.28) {
      // Partial partition: some links down both ways, connectivity no longer transitive.
      for (let i = 0; i < 1 + rng.int(3); i++) {
        const a = pick(ids);
        const b = pick(ids.filter((x) => x !== a));
        if (a !== undefined && b !== undefined) this.net.partition([a], [b]);
      }
      this.tracer.text(() => `fault: partial partition (${this.net.cutLinks} links cut)`);
    } else if (r < 0.4) {
      this.net.healAll();
      this.tracer.text(() => 'fault: network healed');
    } else if (r < 0.5) {
      const n = pick(all.filter((x) => x.alive));
      n?.crash();
    } else if (r < 0.6) {
      const n = pick(all.filter((x) => !x.alive));
      n?.start();
    } else if (r < 0.66) {
      // Crash and come back quickly: exercises torn writes and restart with a stale view.
      const n = pick(all.filter((x) => x.alive));
      if (n !== undefined) {
        n.crash();
        this.queue.after(1 + rng.int(40), () => {
          if (!n.alive && !n.decommissioned) n.start();
        });
      }
    } else if (r < 0.8) {
      this.changeMembership();
    } else if (r < 0.88) {
      const lead = this.leader();
      if (lead !== undefined) {
        const voters = lead.core!.status().conf.voters.filter((v) => v !== lead.id);
        const to = pick(voters);
        if (to !== undefined) {
          try {
            lead.core!.transferLeader(to);
            lead.pump();
            this.stats.transfers++;
            this.tracer.text(() => `fault: transfer leadership ${lead.id} -> ${to}`);
          } catch {
            // Not a voter any more, or the leader moved: nothing to do.
          }
        }
      }
    } else {
      this.net.faults.dropRate = rng.float() * 0.2;
      this.net.faults.dupRate = rng.float() * 0.1;
      this.tracer.text(() => `fault: drop=${this.net.faults.dropRate.toFixed(3)} dup=${this.net.faults.dupRate.toFixed(3)}`);
    }
  }

  /** One membership change on the current leader: add a learner, promote one, or remove a member. */
  private changeMembership(): void {
    const lead = this.leader();
    if (lead === undefined) return;
    const conf = lead.core!.status().conf;
    const rng = this.rng;
    const choice = rng.float();
    let cc: { type: (typeof ConfChangeType)[keyof typeof ConfChangeType]; node: NodeId } | undefined;
    let fresh: NodeId | undefined;
    if (choice < 0.35 && conf.voters.length + conf.learners.length < 7) {
      fresh = `n${this.nextId}`;
      cc = { type: ConfChangeType.AddLearner, node: fresh };
    } else if (choice < 0.65 && conf.learners.length > 0) {
      cc = { type: ConfChangeType.AddNode, node: conf.learners[rng.int(conf.learners.length)]! };
    } else if (conf.voters.length > 3 || conf.learners.length > 0) {
      const pool = conf.voters.length > 3 ? [...conf.voters, ...conf.learners] : conf.learners;
      cc = { type: ConfChangeType.RemoveNode, node: pool[rng.int(pool.length)]! };
    }
    if (cc === undefined) return;
    try {
      lead.core!.proposeConfChange(cc);
    } catch {
      return;
    }
    if (fresh !== undefined) {
      this.nextId++;
      const node = this.addNode(fresh, []);
      node.start();
    }
    if (cc.type === ConfChangeType.RemoveNode) this.watchRemoval(cc.node);
    this.stats.confChanges++;
    const c = cc;
    this.tracer.text(() => `fault: conf change ${['add', 'add-learner', 'remove'][c.type]} ${c.node} via ${lead.id}`);
    lead.pump();
  }

  /** Shuts a removed node down for good once a leader has applied its removal. */
  private watchRemoval(id: NodeId): void {
    const check = () => {
      const node = this.nodes.get(id);
      if (node === undefined || node.decommissioned) return;
      const lead = this.leader();
      if (lead !== undefined && lead.core!.status().applied > 0) {
        const conf = lead.core!.status().conf;
        if (!conf.voters.includes(id) && !conf.learners.includes(id)) {
          node.crash();
          node.decommissioned = true;
          this.tracer.text(() => `${id} decommissioned`);
          return;
        }
      }
      this.queue.after(100, check);
    };
    this.queue.after(100, check);
  }

  // ------------------------------------------------------------------ calm phase

  private heal(): void {
    this.healed = true;
    this.healAt = this.queue.now;
    this.net.healAll();
    this.net.faults = { ...this.net.faults, dropRate: 0, dupRate: 0, longDelayRate: 0 };
    for (const n of this.nodes.values()) if (!n.alive && !n.decommissioned) n.start();
    this.tracer.text(() => `heal: ${this.describeCluster()}`);
    // A dedicated client proves liveness: its first write after healing must be acknowledged.
    const probe = new SimClient(
      99,
      {
        queue: this.queue,
        rng: this.rng,
        nodes: () => [...this.nodes.values()],
        node: (id) => this.nodes.get(id),
        trace: (line) => this.tracer.text(line),
      },
      { keys: ['live'], attemptTimeout: 150, maxAttempts: 1000, readIndexShare: 0 },
    );
    this.liveness = probe;
    probe.start(0);
    const watch = () => {
      if (probe.completed > 0 && probe.history.some((op) => op.input.op !== 'get' && op.return !== Infinity)) {
        this.recoveredAt = this.queue.now;
        probe.stop();
        return;
      }
      this.queue.after(5, watch);
    };
    this.queue.after(5, watch);
  }

  private finalChecks(): void {
    const lead = this.leader();
    const live = this.liveNodes();
    for (const n of live) {
      const st = n.core!.status();
      this.invariants.checkAckedIn(n.id, n.core!, st.firstIndex, st.lastIndex, n === lead);
    }
    // Nodes that applied the same prefix hold the same state.
    const byApplied = new Map<number, string>();
    for (const n of live) {
      const state = new TextDecoder().decode(n.kv.serialize());
      const prev = byApplied.get(n.appliedIndex);
      if (prev !== undefined && prev !== state) {
        throw new InvariantViolation('state machine safety', `${n.id} state differs from a peer at applied index ${n.appliedIndex}`);
      }
      byApplied.set(n.appliedIndex, state);
    }
  }

  private checkLinearizable(): void {
    // A write whose client never learned the outcome stays in the history with an unknown
    // result (it may have happened at any time after its call), unless no state machine ever
    // applied it: then it had no effect at all and leaving it out is exact, and it keeps the
    // search small.
    const clients = this.liveness === null ? this.clients : [...this.clients, this.liveness];
    const history = clients.flatMap((c) =>
      c.history.filter((op, i) => op.return !== Infinity || this.appliedOps.has(`${c.id}:${c.seqs[i]}`)),
    );
    const report = analyzeOperations(kvModel, history, { maxSteps: 2_000_000 });
    this.tracer.text(() => `linearizability: ${report.result} over ${history.length} operations`);
    if (report.result === 'illegal') {
      throw new InvariantViolation('linearizability', describeReport(kvModel, report));
    }
    if (report.result === 'unknown') throw new InvariantViolation('linearizability', 'checker budget exhausted');
  }

  private collectStats(): void {
    const s = this.stats;
    s.events = this.queue.steps;
    s.virtualMs = Math.round(this.queue.now);
    s.messages = this.net.sent;
    s.dropped = this.net.dropped;
    let crashes = 0;
    let torn = 0;
    for (const n of this.nodes.values()) {
      crashes += n.crashes;
      torn += n.disk.tornWrites;
    }
    s.crashes = crashes;
    s.tornWrites = torn;
    s.opsCompleted = this.clients.reduce((a, c) => a + c.completed, 0);
    s.opsUnknown = this.clients.reduce((a, c) => a + c.unknown, 0);
    s.committed = this.invariants.highestCommitted;
    s.recoveryMs = this.recoveredAt < 0 ? -1 : Math.round(this.recoveredAt - this.healAt);
    s.invariantChecks = this.invariants.checks;
    s.leaderElections = this.invariants.leaderCount;
    s.snapshotsInstalled = [...this.nodes.values()].reduce((a, n) => a + n.snapshotsInstalled, 0);
  }
}

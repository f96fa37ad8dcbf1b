/**
 * A seeded, lossy network between simulated nodes: every message independently may be dropped,
 * duplicated, or delayed (random delays reorder messages), and links can be cut one way at a
 * time, which builds symmetric, one-way and partial partitions.
 */
import type { Message, NodeId } from '../../../../handler/raft/types.ts';
import type { Prng } from '../../../../handler/raft/core/prng.ts';
import type { EventQueue } from './event-queue.ts';

/** Tunable fault rates. */
export interface NetworkFaults {
  dropRate: number;
  dupRate: number;
  /** Ordinary one-way latency range, in virtual milliseconds. */
  minDelay: number;
  maxDelay: number;
  /** Probability of a long delay (up to `longDelay` ms), which reorders messages. */
  longDelayRate: number;
  longDelay: number;
}

/** The simulated network. */
export class SimNetwork {
  faults: NetworkFaults;
  private readonly cut = new Set<string>();
  private readonly rng: Prng;
  private readonly queue: EventQueue;
  private readonly deliver: (m: Message) => void;
  sent = 0;
  dropped = 0;

  constructor(rng: Prng, queue: EventQueue, faults: NetworkFaults, deliver: (m: Message) => void) {
    this.rng = rng;
    this.queue = queue;
    this.faults = faults;
    this.deliver = deliver;
  }

  private static link(from: NodeId, to: NodeId): string {
    return `${from}>${to}`;
  }

  /** True when messages from `from` currently reach `to`. */
  connected(from: NodeId, to: NodeId): boolean {
    return !this.cut.has(SimNetwork.link(from, to));
  }

  /** Cuts the link one way. */
  cutLink(from: NodeId, to: NodeId): void {
    this.cut.add(SimNetwork.link(from, to));
  }

  /** Cuts both directions between every node of `a` and every node of `b`. */
  partition(a: readonly NodeId[], b: readonly NodeId[]): void {
    for (const x of a) {
      for (const y of b) {
        this.cutLink(x, y);
        this.cutLink(y, x);
      }
    }
  }

  healAll(): void {
    this.cut.clear();
  }

  get cutLinks(): number {
    return this.cut.size;
  }

  send(m: Message): void {
    this.sent++;
    const f = this.faults;
    if (!this.connected(m.from, m.to) || this.rng.chance(f.dropRate)) {
      this.dropped++;
      return;
    }
    const copies = this.rng.chance(f.dupRate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const delay = this.rng.chance(f.longDelayRate)
        ? f.maxDelay + this.rng.float() * f.longDelay
        : f.minDelay + this.rng.float() * (f.maxDelay - f.minDelay);
      this.queue.after(delay, () => {
        // A partition made while the message was in flight also stops it.
        if (this.connected(m.from, m.to)) this.deliver(m);
        else this.dropped++;
      });
    }
  }
}

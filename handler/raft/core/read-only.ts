/**
 * ReadIndex bookkeeping on the leader (Raft thesis 6.4; etcd-io/raft read_only.go): each read
 * records the commit index at arrival, then waits until a majority answers a heartbeat sent
 * after it, which proves no newer leader existed at that moment. An ack for a later request
 * confirms every earlier one, so requests complete in FIFO order.
 */
import type { NodeId } from '../types.ts';

/** One pending read: the commit index it may read at and who asked. */
export interface ReadRequest {
  index: number;
  context: Uint8Array;
  /** The node that asked; the leader itself for local reads. */
  from: NodeId;
  acks: Set<NodeId>;
}

/** A context as a map key; contexts are short opaque byte strings chosen by the driver. */
export function contextKey(context: Uint8Array): string {
  let s = '';
  for (let i = 0; i < context.length; i++) s += String.fromCharCode(context[i]!);
  return s;
}

/** FIFO of reads awaiting heartbeat confirmation. */
export class ReadOnly {
  private readonly pending = new Map<string, ReadRequest>();
  private queue: string[] = [];

  get size(): number {
    return this.queue.length;
  }

  /** Registers a read; false when a read with the same context is already pending. */
  add(index: number, context: Uint8Array, from: NodeId): boolean {
    const key = contextKey(context);
    if (this.pending.has(key)) return false;
    this.pending.set(key, { index, context, from, acks: new Set() });
    this.queue.push(key);
    return true;
  }

  /** Records a heartbeat ack carrying `context`; returns the acks so far, or undefined if unknown. */
  recvAck(from: NodeId, context: Uint8Array): Set<NodeId> | undefined {
    const req = this.pending.get(contextKey(context));
    if (req === undefined) return undefined;
    req.acks.add(from);
    return req.acks;
  }

  /** Removes and returns every request up to and including the one with `context`. */
  advance(context: Uint8Array): ReadRequest[] {
    const key = contextKey(context);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const keys = this.queue.splice(0, at + 1);
    const out: ReadRequest[] = [];
    for (const k of keys) {
      out.push(this.pending.get(k)!);
      this.pending.delete(k);
    }
    return out;
  }

  /** The newest pending context, sent with heartbeats so that one round confirms them all. */
  lastContext(): Uint8Array | null {
    const n = this.queue.length;
    return n === 0 ? null : this.pending.get(this.queue[n - 1]!)!.context;
  }

  reset(): void {
    this.pending.clear();
    this.queue = [];
  }
}

/**
 * Proposals of one node from propose() to their result. Each carries this process's tag and a
 * sequence number (envelope.ts), so the node recognises its own entries wherever they come from.
 *
 * A proposal can be lost without any error: forwarded to a leader that dies, or appended by a
 * leader whose entries the next leader overwrites. Waiting out the deadline then would stall
 * every write of a failover, so the tracker re-proposes in the two cases where the loss is
 * certain, and only those (a re-proposal of an entry that might still commit would apply it
 * twice):
 *
 * - the transport dropped the forwarded Propose unsent (link down, queue full): the leader
 *   never saw it. It is parked until a leader that can be reached is known.
 * - our log held the entry at index i, and a different entry replaced it at i (truncated by a
 *   new leader, or committed there): only one copy of a proposal is ever appended (one Propose,
 *   one append), and a committed index never changes, so it can never commit.
 *
 * Anything else (a proposal that reached a leader which died before replicating it) resolves
 * only by its deadline, with TIMEOUT: its outcome is unknown.
 */
import { codedError, ErrorCode } from '../../../shared/errors.ts';
import type { Entry, Message, NodeId } from '../types.ts';
import { EntryType, MessageType } from '../types.ts';
import { EntryKind, sameTag, TAG_BYTES } from './envelope.ts';
import { WaitList } from './wait-list.ts';

/** What the tracker needs from the node. */
export interface ProposalHost {
  /** core.propose(data); throws NOT_LEADER without a known leader. */
  propose(data: Uint8Array): void;
  /** The known leader, '' for none. */
  leader(): NodeId;
  /** Whether our link to `id` is up (or `id` is us). */
  reachable(id: NodeId): boolean;
  /** Asks the node to process a Ready soon. */
  schedule(): void;
}

/** This node's proposals in flight. */
export class Proposals {
  readonly #host: ProposalHost;
  readonly #tag: Uint8Array;
  readonly #waits = new WaitList<number, unknown>('Raft proposal');
  /** Entry data of every proposal still waited for, by sequence number. */
  readonly #data = new Map<number, Uint8Array>();
  /** Our entries in the local log, not yet applied: index -> sequence number. */
  readonly #at = new Map<number, number>();
  #maxAt = 0;
  /** Proposals waiting for a (reachable) leader; `notTo` is the leader that could not be reached. */
  #parked: Array<{ seq: number; notTo: NodeId }> = [];
  /** Proposals re-submitted after a certain loss (for stats). */
  resubmitted = 0;

  constructor(host: ProposalHost, tag: Uint8Array) {
    this.#host = host;
    this.#tag = tag;
  }

  /** Proposals waited for. */
  get size(): number {
    return this.#waits.size;
  }

  get parked(): number {
    return this.#parked.length;
  }

  /** Registers a proposal and submits it. */
  add(seq: number, data: Uint8Array, deadline: number, signal: AbortSignal | undefined): Promise<unknown> {
    const p = this.#waits.add(seq, deadline, signal);
    this.#data.set(seq, data);
    this.#submit(seq);
    return p;
  }

  /** The sequence number of one of our entries, or undefined for anyone else's. */
  seqOf(e: Entry): number | undefined {
    const d = e.data;
    if (e.type !== EntryType.Normal || d.length < 2 + TAG_BYTES) return undefined;
    if (d[0] !== EntryKind.Command && d[0] !== EntryKind.Member) return undefined;
    if (!sameTag(d.subarray(1, 1 + TAG_BYTES), this.#tag)) return undefined;
    let seq = 0;
    let scale = 1;
    for (let o = 1 + TAG_BYTES; o < d.length && o < 9 + TAG_BYTES; o++) {
      const byte = d[o]!;
      seq += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return seq;
      scale *= 128;
    }
    return undefined;
  }

  #submit(seq: number): void {
    const data = this.#data.get(seq);
    if (data === undefined || !this.#waits.has(seq)) {
      this.#data.delete(seq);
      return;
    }
    try {
      this.#host.propose(data);
      this.#host.schedule();
    } catch (err) {
      if ((err as { code?: unknown }).code === ErrorCode.NOT_LEADER) {
        // No leader known (an election is running): hold it until one is.
        this.#parked.push({ seq, notTo: '' });
        return;
      }
      this.reject(seq, err as Error);
    }
  }

  #lost(seq: number): void {
    if (!this.#waits.has(seq)) return;
    this.resubmitted++;
    this.#submit(seq);
  }

  /** Resolves a proposal with its result (the apply loop calls this for our entries). */
  resolve(seq: number, value: unknown): void {
    this.#data.delete(seq);
    this.#waits.resolve(seq, value);
  }

  reject(seq: number, err: Error): void {
    this.#data.delete(seq);
    this.#waits.reject(seq, err);
  }

  /** Entries about to be written to our log (a Ready's `entries`): learn where ours landed. */
  onAppend(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = entries[0]!.index;
    if (first <= this.#maxAt) {
      // A new leader truncates our log from `first`: ours there are gone unless rewritten.
      const last = entries[entries.length - 1]!.index;
      for (const [index, seq] of this.#at) {
        if (index < first) continue;
        const e = index <= last ? entries[index - first] : undefined;
        if (e !== undefined && this.seqOf(e) === seq) continue;
        this.#at.delete(index);
        this.#lost(seq);
      }
    }
    for (const e of entries) {
      const seq = this.seqOf(e);
      if (seq === undefined || !this.#data.has(seq)) continue;
      this.#at.set(e.index, seq);
      if (e.index > this.#maxAt) this.#maxAt = e.index;
    }
  }

  /** An entry is being applied at `index`; `seq` is ours (or undefined). */
  onApply(index: number, seq: number | undefined): void {
    if (this.#at.size === 0) return;
    const held = this.#at.get(index);
    if (held === undefined) return;
    this.#at.delete(index);
    if (held !== seq) this.#lost(held);
  }

  /** A snapshot replaced the log up to `index`: ours at or below it have an unknown outcome. */
  onSnapshot(index: number): void {
    for (const [i, seq] of this.#at) {
      if (i > index) continue;
      this.#at.delete(i);
      this.reject(seq, codedError(Error, ErrorCode.TIMEOUT, `A snapshot replaced the log through index ${index}; the proposal's outcome is unknown`));
    }
  }

  /** Messages the transport dropped unsent: forwarded proposals among them never reached the leader. */
  onDropped(messages: readonly Message[]): void {
    for (const m of messages) {
      if (m.type !== MessageType.Propose) continue;
      for (const e of m.entries) {
        const seq = this.seqOf(e);
        if (seq !== undefined && this.#waits.has(seq)) this.#parked.push({ seq, notTo: m.to });
      }
    }
  }

  /** Re-submits parked proposals when a leader other than the unreachable one (or it, reachable again) is known. */
  unpark(): void {
    if (this.#parked.length === 0) return;
    const lead = this.#host.leader();
    if (lead === '') return;
    const keep: Array<{ seq: number; notTo: NodeId }> = [];
    const go: number[] = [];
    for (const p of this.#parked) {
      if (!this.#waits.has(p.seq)) continue;
      if (p.notTo === lead && !this.#host.reachable(lead)) keep.push(p);
      else go.push(p.seq);
    }
    this.#parked = keep;
    for (const seq of go) this.#submit(seq);
  }

  /** Per tick: deadlines, forgotten data, parked proposals. */
  onTick(now: number): void {
    if (this.#waits.expire(now) > 0) {
      for (const seq of this.#data.keys()) if (!this.#waits.has(seq)) this.#data.delete(seq);
    }
    this.unpark();
  }

  rejectAll(err: Error): void {
    this.#waits.rejectAll(err);
    this.#data.clear();
    this.#at.clear();
    this.#parked = [];
  }
}

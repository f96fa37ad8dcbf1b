/**
 * Simulated key-value clients. Each runs one operation at a time against some node, retries
 * the same request (same session sequence number) on another node when the first does not
 * answer, and records a history for the linearizability checker: a write that never got an
 * answer has an unknown outcome (return +Infinity), a read that never got one is left out
 * (it changed nothing).
 */
import type { NodeId } from '../../../../handler/raft/types.ts';
import type { Prng } from '../../../../handler/raft/core/prng.ts';
import { UNKNOWN, type KvInput, type KvOutput, type Operation } from '../../../support/linearizability/index.ts';
import type { EventQueue } from './event-queue.ts';
import type { SimNode } from './node.ts';

/** What a client needs from the simulation. */
export interface ClientContext {
  queue: EventQueue;
  rng: Prng;
  nodes(): SimNode[];
  node(id: NodeId): SimNode | undefined;
  trace(line: () => string): void;
}

/** Client behaviour knobs. */
export interface ClientOptions {
  keys: string[];
  attemptTimeout: number;
  maxAttempts: number;
  /** Share of reads served through ReadIndex (the rest go through the log). */
  readIndexShare: number;
}

const enc = new TextEncoder();

interface Pending {
  seq: number;
  input: KvInput;
  viaReadIndex: boolean;
  call: number;
  attempts: number;
  done: boolean;
}

/** One sequential client. */
export class SimClient {
  readonly id: number;
  readonly history: Operation<KvInput, KvOutput>[] = [];
  /** Session sequence number of each history entry (same positions). */
  readonly seqs: number[] = [];
  private readonly ctx: ClientContext;
  private readonly opts: ClientOptions;
  private seq = 0;
  private current: Pending | null = null;
  private hint: NodeId = '';
  private stopped = false;
  completed = 0;
  unknown = 0;

  constructor(id: number, ctx: ClientContext, opts: ClientOptions) {
    this.id = id;
    this.ctx = ctx;
    this.opts = opts;
  }

  get idle(): boolean {
    return this.current === null;
  }

  start(delay: number): void {
    this.ctx.queue.after(delay, () => this.next());
  }

  /** Starts no new operations; the one in flight finishes or is abandoned at the end. */
  stop(): void {
    this.stopped = true;
  }

  /** Records the operation in flight as abandoned (end of the run). */
  abandon(): void {
    const p = this.current;
    if (p === null) return;
    this.current = null;
    if (p.input.op !== 'get') {
      this.history.push({ clientId: this.id, input: p.input, call: p.call, output: UNKNOWN, return: Infinity });
      this.seqs.push(p.seq);
      this.unknown++;
    }
  }

  private next(): void {
    if (this.stopped) return;
    const { rng } = this.ctx;
    const key = this.opts.keys[rng.int(this.opts.keys.length)]!;
    const seq = ++this.seq;
    const r = rng.float();
    const input: KvInput =
      r < 0.35
        ? { op: 'put', key, value: `${this.id}.${seq}` }
        : r < 0.65
          ? { op: 'append', key, value: `${this.id}.${seq};` }
          : { op: 'get', key };
    this.current = {
      seq,
      input,
      viaReadIndex: input.op === 'get' && rng.chance(this.opts.readIndexShare),
      call: this.ctx.queue.steps,
      attempts: 0,
      done: false,
    };
    this.attempt();
  }

  private pickNode(): SimNode | undefined {
    const hinted = this.hint === '' ? undefined : this.ctx.node(this.hint);
    if (hinted !== undefined && hinted.alive && !hinted.decommissioned) return hinted;
    const candidates = this.ctx.nodes().filter((n) => n.alive && !n.decommissioned);
    if (candidates.length === 0) return undefined;
    return candidates[this.ctx.rng.int(candidates.length)];
  }

  private attempt(): void {
    const p = this.current!;
    p.attempts++;
    const attemptNo = p.attempts;
    const node = this.pickNode();
    const { queue } = this.ctx;
    queue.after(this.opts.attemptTimeout, () => this.timeout(p, attemptNo));
    if (node === undefined) return;
    const fail = (lead: NodeId) => {
      this.hint = lead;
      queue.after(5 + this.ctx.rng.int(20), () => this.retry(p, attemptNo));
    };
    const latency = 1 + this.ctx.rng.float() * 2;
    queue.after(latency, () => {
      if (p.done) return;
      if (p.viaReadIndex) {
        const context = enc.encode(`r${this.id}.${p.seq}.${attemptNo}`);
        node.submitRead(p.input.key, context, (value) => this.reply(p, node.id, value), fail);
      } else {
        const { input } = p;
        const value = input.op === 'get' ? '' : input.value;
        const cmd = { client: this.id, seq: p.seq, op: input.op, key: input.key, value };
        node.submitCommand(cmd, (res) => this.reply(p, node.id, res.value), fail);
      }
    });
  }

  private reply(p: Pending, from: NodeId, value: string | undefined): void {
    this.ctx.queue.after(1 + this.ctx.rng.float() * 2, () => {
      if (p.done || this.current !== p) return;
      p.done = true;
      this.current = null;
      this.hint = from;
      this.completed++;
      const output: KvOutput = p.input.op === 'get' ? value : undefined;
      this.history.push({ clientId: this.id, input: p.input, call: p.call, output, return: this.ctx.queue.steps });
      this.seqs.push(p.seq);
      this.ctx.trace(() => `client ${this.id} ${p.input.op}(${p.input.key}) seq=${p.seq} -> ${JSON.stringify(output)} via ${from}`);
      this.ctx.queue.after(this.ctx.rng.int(15), () => this.next());
    });
  }

  private retry(p: Pending, attemptNo: number): void {
    if (p.done || this.current !== p || p.attempts !== attemptNo) return;
    if (p.attempts >= this.opts.maxAttempts) this.giveUp(p);
    else this.attempt();
  }

  private timeout(p: Pending, attemptNo: number): void {
    if (p.done || this.current !== p || p.attempts !== attemptNo) return;
    this.hint = '';
    if (p.attempts >= this.opts.maxAttempts) this.giveUp(p);
    else this.attempt();
  }

  private giveUp(p: Pending): void {
    p.done = true;
    this.abandon();
    this.current = null;
    this.ctx.trace(() => `client ${this.id} gave up ${p.input.op}(${p.input.key}) seq=${p.seq}`);
    this.ctx.queue.after(this.ctx.rng.int(15), () => this.next());
  }
}

/**
 * Linearizable reads through ReadIndex (Raft thesis 6.4) on the driver side. Readers that
 * arrive while no request is in flight are batched under one read context, so a thousand
 * concurrent reads cost one heartbeat round (etcd's linearizableReadLoop does the same). A
 * reader resolves once the state machine has applied the confirmed index. A request whose
 * answer is lost (leader change, dropped message) is re-issued after `retryTicks`; reads are
 * idempotent, so retrying is always safe.
 */
import { codedError, ErrorCode } from '../../../shared/errors.ts';
import type { ReadState } from '../types.ts';
import { abortedError, AbortGroups } from './wait-list.ts';

/** A read context as a map key (contexts are short byte strings this driver makes). */
function contextKey(context: Uint8Array): string {
  let s = '';
  for (let i = 0; i < context.length; i++) s += String.fromCharCode(context[i]!);
  return s;
}

interface Reader {
  resolve(): void;
  reject(err: Error): void;
  deadline: number;
  done: boolean;
  signal: AbortSignal | undefined;
}

interface Request {
  readers: Reader[];
  issuedTick: number;
}

/** What the tracker needs from the node. */
export interface ReadHost {
  /** Asks the core for a read index under `context`; throws NOT_LEADER without a known leader. */
  readIndex(context: Uint8Array): void;
  /** A fresh, unique read context. */
  nextContext(): Uint8Array;
}

/** Pending ReadIndex reads of one node. */
export class ReadTracker {
  readonly #host: ReadHost;
  readonly #retryTicks: number;
  #unissued: Reader[] = [];
  readonly #requests = new Map<string, Request>();
  /** Confirmed reads waiting for the apply loop, in arrival order. */
  #confirmed: Array<{ index: number; readers: Reader[] }> = [];
  readonly #live = new Set<Reader>();
  readonly #aborts = new AbortGroups<Reader>((r, signal) => this.#settle(r, abortedError(signal, 'Raft read')));

  constructor(host: ReadHost, retryTicks: number) {
    this.#host = host;
    this.#retryTicks = retryTicks;
  }

  /** Readers not yet resolved. */
  get pending(): number {
    return this.#live.size;
  }

  /** True when readers wait for a request to be issued. */
  get hasUnissued(): boolean {
    return this.#unissued.length > 0;
  }

  /** Registers a reader; call issue() afterwards (the node does, from its pump). */
  add(deadline: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const r: Reader = { resolve, reject, deadline, done: false, signal };
      if (signal !== undefined) this.#aborts.add(signal, r);
      this.#live.add(r);
      this.#unissued.push(r);
    });
  }

  #settle(r: Reader, err?: Error): void {
    if (r.done) return;
    r.done = true;
    this.#live.delete(r);
    if (r.signal !== undefined) this.#aborts.remove(r.signal, r);
    if (err === undefined) r.resolve();
    else r.reject(err);
  }

  /** Sends one read request covering every unissued reader; keeps them when no leader is known. */
  issue(tick: number): void {
    const readers = this.#unissued.filter((r) => !r.done);
    this.#unissued = [];
    if (readers.length === 0) return;
    const context = this.#host.nextContext();
    try {
      this.#host.readIndex(context);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === ErrorCode.NOT_LEADER) {
        // No leader yet: try again on a later tick or when one is elected.
        this.#unissued = readers;
        return;
      }
      for (const r of readers) this.#settle(r, err as Error);
      return;
    }
    this.#requests.set(contextKey(context), { readers, issuedTick: tick });
  }

  /** A ReadState from the core; resolves at once when `applied` already covers it. */
  onReadState(rs: ReadState, applied: number): void {
    const key = contextKey(rs.context);
    const req = this.#requests.get(key);
    if (req === undefined) return;
    this.#requests.delete(key);
    if (rs.index <= applied) {
      for (const r of req.readers) this.#settle(r);
    } else {
      this.#confirmed.push({ index: rs.index, readers: req.readers });
    }
  }

  /** The apply loop reached `applied`. */
  onApplied(applied: number): void {
    if (this.#confirmed.length === 0) return;
    const keep: Array<{ index: number; readers: Reader[] }> = [];
    for (const c of this.#confirmed) {
      if (c.index <= applied) for (const r of c.readers) this.#settle(r);
      else keep.push(c);
    }
    this.#confirmed = keep;
  }

  /** Per tick: expire readers, re-queue requests that got no answer in time. */
  onTick(tick: number, now: number): void {
    for (const r of this.#live) {
      if (r.deadline <= now) this.#settle(r, codedError(Error, ErrorCode.TIMEOUT, 'Raft read timed out waiting for a read index'));
    }
    for (const [key, req] of this.#requests) {
      if (tick - req.issuedTick < this.#retryTicks) continue;
      this.#requests.delete(key);
      for (const r of req.readers) if (!r.done) this.#unissued.push(r);
    }
  }

  rejectAll(err: Error): void {
    for (const r of [...this.#live]) this.#settle(r, err);
    this.#unissued = [];
    this.#requests.clear();
    this.#confirmed = [];
  }
}

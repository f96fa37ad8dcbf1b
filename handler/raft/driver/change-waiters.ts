/**
 * Callers of membership changes and leadership transfers waiting for the outcome: a change
 * resolves when the entry the leader appended for it is applied at its index (and rejects if
 * a different entry ended up there after a leader change), a transfer when the target leads.
 */
import { codedError, ErrorCode } from '../../../shared/errors.ts';
import type { Entry, NodeId } from '../types.ts';
import { EntryType } from '../types.ts';
import { abortedError } from './wait-list.ts';

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Builds a promise whose settle functions also detach the abort listener. */
function pending(signal: AbortSignal | undefined, what: string, onAbort: () => void): { waiter: Waiter; promise: Promise<void> } {
  let waiter!: Waiter;
  const promise = new Promise<void>((resolve, reject) => {
    const abort = (): void => {
      onAbort();
      reject(abortedError(signal!, what));
    };
    waiter = {
      resolve: () => {
        signal?.removeEventListener('abort', abort);
        resolve();
      },
      reject: (err) => {
        signal?.removeEventListener('abort', abort);
        reject(err);
      },
    };
    signal?.addEventListener('abort', abort, { once: true });
  });
  return { waiter, promise };
}

/** Waiting membership changes (by log index) and leadership transfers (by target). */
export class ChangeWaiters {
  readonly #byIndex = new Map<number, Waiter & { data: Uint8Array }>();
  readonly #transfers = new Set<Waiter & { to: NodeId; deadline: number }>();

  /** Changes waiting to be applied. */
  get size(): number {
    return this.#byIndex.size;
  }

  /** Waits until the conf-change entry `data` appended at `index` is applied. */
  change(index: number, data: Uint8Array, signal: AbortSignal | undefined): Promise<void> {
    const { waiter, promise } = pending(signal, 'Raft membership change', () => this.#byIndex.delete(index));
    this.#byIndex.set(index, { ...waiter, data });
    return promise;
  }

  /** An entry was applied. */
  onApplied(e: Entry): void {
    const w = this.#byIndex.get(e.index);
    if (w === undefined) return;
    this.#byIndex.delete(e.index);
    if (e.type === EntryType.ConfChange && sameBytes(e.data, w.data)) w.resolve();
    else w.reject(codedError(Error, ErrorCode.PROPOSAL_DROPPED, `The change at index ${e.index} was replaced after a leader change`));
  }

  /** A snapshot replaced the log through `index`: changes at or below it have an unknown outcome. */
  onSnapshot(index: number): void {
    for (const [i, w] of this.#byIndex) {
      if (i > index) continue;
      this.#byIndex.delete(i);
      w.reject(codedError(Error, ErrorCode.TIMEOUT, `A snapshot covered index ${i}; the change's outcome is unknown`));
    }
  }

  /** Waits until `to` leads, or rejects with TIMEOUT at `deadline`. */
  transfer(to: NodeId, deadline: number, signal: AbortSignal | undefined): Promise<void> {
    const entry = { to, deadline } as Waiter & { to: NodeId; deadline: number };
    const { waiter, promise } = pending(signal, 'Leadership transfer', () => this.#transfers.delete(entry));
    entry.resolve = waiter.resolve;
    entry.reject = waiter.reject;
    this.#transfers.add(entry);
    return promise;
  }

  /** The known leader changed. */
  onLeader(lead: NodeId): void {
    for (const w of this.#transfers) {
      if (w.to !== lead) continue;
      this.#transfers.delete(w);
      w.resolve();
    }
  }

  expire(now: number): void {
    for (const w of this.#transfers) {
      if (w.deadline > now) continue;
      this.#transfers.delete(w);
      w.reject(codedError(Error, ErrorCode.TIMEOUT, `Leadership did not move to ${w.to} in time`));
    }
  }

  rejectAll(err: Error): void {
    for (const w of this.#byIndex.values()) w.reject(err);
    this.#byIndex.clear();
    for (const w of this.#transfers) w.reject(err);
    this.#transfers.clear();
  }
}

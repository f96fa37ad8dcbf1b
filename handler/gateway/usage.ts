/**
 * Usage accounting (ARCHITECTURE 4): bytes are counted per user in memory and proposed to the
 * replicated state as `usage.add` batches every settings.usageReportInterval. The state counts
 * a batch once per (handlerId, sequence) (handler/state/apply-usage.ts), so the contract here
 * is: one batch in flight; a batch whose fate is unknown (the proposal rejected) is retried
 * with the same sequence and the same deltas; new bytes wait in the next batch. Quota checks
 * add the bytes not yet applied to the state's `used`, so a user cannot outrun the report
 * interval on this handler.
 */
import type { Logger } from '../../shared/log.ts';
import type { StateStore } from '../state/store.ts';
import type { UserRecord } from '../state/types.ts';
import type { Direction } from '../bridge/types.ts';

type Counters = { up: number; down: number };

/** Options of a UsageLedger. */
export interface UsageLedgerOptions {
  store: StateStore;
  /** This handler's id (nodeId): the batch source. */
  handlerId: string;
  logger: Logger;
  /** Report period in ms, read before each report (settings can change it). */
  intervalMs: () => number;
}

/** Most users in one batch (STATE_LIMITS.maxUsageDeltas). */
const MAX_DELTAS = 10_000;

/** Counts bytes per user and reports them to the state in batches. */
export class UsageLedger {
  readonly #o: UsageLedgerOptions;
  #fresh = new Map<string, Counters>();
  #inFlight: { sequence: number; deltas: Map<string, Counters> } | null = null;
  #nextSequence: number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #flushing: Promise<void> | null = null;
  #stopped = false;

  constructor(options: UsageLedgerOptions) {
    this.#o = options;
    this.#nextSequence = options.store.view.usageWatermark(options.handlerId) + 1;
  }

  /** Counts `n` bytes of `userId` in `direction`. */
  add(userId: string, direction: Direction, n: number): void {
    let c = this.#fresh.get(userId);
    if (c === undefined) {
      c = { up: 0, down: 0 };
      this.#fresh.set(userId, c);
    }
    c[direction] += n;
  }

  /** Bytes of `userId` counted here and not yet applied to the state. */
  unapplied(userId: string): number {
    const a = this.#fresh.get(userId);
    const b = this.#inFlight?.deltas.get(userId);
    return (a === undefined ? 0 : a.up + a.down) + (b === undefined ? 0 : b.up + b.down);
  }

  /** True when the user's quota is spent, counting bytes not yet reported. */
  exhausted(user: UserRecord): boolean {
    return user.quota !== null && user.used + this.unapplied(user.id) >= user.quota;
  }

  /** Starts periodic reports. */
  start(): void {
    this.#schedule();
  }

  /** Proposes what was counted (retrying an unsettled batch first); resolves when settled. */
  flush(): Promise<void> {
    this.#flushing ??= this.#report().finally(() => {
      this.#flushing = null;
    });
    return this.#flushing;
  }

  /** Stops reporting after one last flush. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.flush();
    if (this.#fresh.size > 0) await this.flush();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      void this.flush().finally(() => this.#schedule());
    }, Math.max(100, this.#o.intervalMs()));
  }

  async #report(): Promise<void> {
    if (this.#inFlight === null) {
      if (this.#fresh.size === 0) return;
      const deltas = new Map<string, Counters>();
      for (const [id, c] of this.#fresh) {
        if (deltas.size >= MAX_DELTAS) break;
        deltas.set(id, c);
      }
      for (const id of deltas.keys()) this.#fresh.delete(id);
      this.#inFlight = { sequence: this.#nextSequence, deltas };
    }
    const batch = this.#inFlight;
    try {
      const result = await this.#o.store.propose({
        v: 1,
        op: 'usage.add',
        handlerId: this.#o.handlerId,
        sequence: batch.sequence,
        deltas: [...batch.deltas].map(([userId, c]) => ({ userId, up: c.up, down: c.down })),
      });
      this.#inFlight = null;
      if (result.ok) this.#nextSequence = batch.sequence + 1;
      else this.#o.logger.warn({ error: result.error }, 'usage report refused by the state; the batch is dropped');
    } catch (err) {
      // Unknown fate: keep the batch and its sequence for the next attempt (idempotent).
      this.#o.logger.warn({ err }, 'usage report not settled; will retry');
    }
  }
}

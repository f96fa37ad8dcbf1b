/**
 * Refuses replayed session handshakes (Shadowsocks-2022 SIP022 and WireGuard style): message 1
 * carries the client's clock, which must be within +-windowMs of ours, and the handshake hash
 * after message 1 (or the message-1 ephemeral key) is remembered long enough that a copy of the
 * message is refused for as long as its timestamp would still be accepted.
 *
 * Memory is bounded by two generations of at most `maxEntriesPerGeneration` ids each. A
 * generation is retired once every id in it is older than `retentionMs`, so no id is forgotten
 * early. When the current generation is full the guard fails closed: it refuses new handshakes
 * ('full') until the next rotation rather than forget ids that could still be replayed.
 *
 * The clock is injected (`now`), so tests are deterministic. The guard is pure bookkeeping: the
 * caller authenticates message 1 first, so only real users' handshakes are recorded.
 */
import { ErrorCode, codedError } from '../errors.ts';

/** Default allowed clock difference each way (ARCHITECTURE.md section 3). */
export const DEFAULT_REPLAY_WINDOW_MS = 30_000;
/** Default time an id is remembered (at least twice the window). */
export const DEFAULT_REPLAY_RETENTION_MS = 60_000;
/** Default ids per generation (about 2,000 new handshakes/s sustained; ~8 MB per generation at most). */
export const DEFAULT_REPLAY_MAX_ENTRIES = 131_072;
/** Bytes of the id kept: 128 bits of a hash output or public key are collision-free here. */
const ID_BYTES = 16;

/** Options of a ReplayGuard. */
export interface ReplayGuardOptions {
  /** Wall clock in milliseconds (default Date.now). */
  now?: () => number;
  windowMs?: number;
  retentionMs?: number;
  maxEntriesPerGeneration?: number;
}

/**
 * The guard's answer: 'accepted' (recorded), 'stale' or 'future' (timestamp outside the
 * window), 'replayed' (id seen), 'full' (cache at its cap: refused, fail closed).
 */
export type ReplayVerdict = 'accepted' | 'stale' | 'future' | 'replayed' | 'full';

/** A bounded replay cache for handshake message 1. */
export class ReplayGuard {
  readonly #now: () => number;
  readonly #window: number;
  readonly #retention: number;
  readonly #cap: number;
  #current = new Set<string>();
  #previous = new Set<string>();
  #currentStart: number;

  constructor(options: ReplayGuardOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#window = options.windowMs ?? DEFAULT_REPLAY_WINDOW_MS;
    this.#retention = options.retentionMs ?? DEFAULT_REPLAY_RETENTION_MS;
    this.#cap = options.maxEntriesPerGeneration ?? DEFAULT_REPLAY_MAX_ENTRIES;
    if (!(this.#window > 0) || !Number.isFinite(this.#window)) {
      throw codedError(RangeError, ErrorCode.BAD_CONFIG, `The replay windowMs is ${this.#window}: expected a positive number`);
    }
    if (!(this.#retention >= 2 * this.#window) || !Number.isFinite(this.#retention)) {
      // An id inserted when its timestamp is windowMs old must outlive the moment it is windowMs new.
      throw codedError(RangeError, ErrorCode.BAD_CONFIG, `The replay retentionMs is ${this.#retention}: expected at least twice windowMs (${2 * this.#window})`);
    }
    if (!Number.isSafeInteger(this.#cap) || this.#cap < 1) {
      throw codedError(RangeError, ErrorCode.BAD_CONFIG, `The replay maxEntriesPerGeneration is ${this.#cap}: expected a positive integer`);
    }
    this.#currentStart = this.#now();
  }

  /**
   * Checks a handshake: `timestampMs` from the authenticated message-1 payload, `id` its
   * handshake hash (at least 16 bytes). Records the id when the verdict is 'accepted'.
   */
  check(timestampMs: number, id: Uint8Array): ReplayVerdict {
    if (!(id instanceof Uint8Array) || id.length < ID_BYTES) {
      throw codedError(TypeError, ErrorCode.REPLAY, `The replay id has ${id?.length} bytes: expected at least ${ID_BYTES}`);
    }
    const now = this.#now();
    this.#rotate(now);
    if (!(timestampMs >= now - this.#window)) return 'stale';
    if (timestampMs > now + this.#window) return 'future';
    const key = String.fromCharCode.apply(null, id.subarray(0, ID_BYTES) as unknown as number[]);
    if (this.#current.has(key) || this.#previous.has(key)) return 'replayed';
    if (this.#current.size >= this.#cap) return 'full';
    this.#current.add(key);
    return 'accepted';
  }

  /** Ids remembered now. */
  get size(): number {
    return this.#current.size + this.#previous.size;
  }

  #rotate(now: number): void {
    const age = now - this.#currentStart;
    // A clock stepping backwards never retires anything early.
    if (age < this.#retention) return;
    // Every id in `current` was added before currentStart + retention; all have expired once
    // age >= 2 * retention, and those in `previous` have expired in any case.
    this.#previous = age >= 2 * this.#retention ? new Set() : this.#current;
    this.#current = new Set();
    this.#currentStart = now;
  }
}

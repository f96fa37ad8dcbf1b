/**
 * The client's pool of long-lived sessions to handlers (ARCHITECTURE 1: "a few long-lived WSS
 * sessions ... reconnects with backoff and jitter, fails over between handler URLs").
 *
 * Each of `size` slots runs one loop: dial a session, hold it until it dies, dial again.
 * Slot i starts at URL i mod n, so a pool of two spreads over two handlers; every failed dial
 * and every lost session moves the slot on to the next URL (failover), with exponential
 * backoff between attempts (client/backoff.ts). A session that received GOAWAY (its handler
 * is draining) keeps its streams but takes no new ones; the slot replaces it at once.
 * Dead peers are found by the mux keepalive (docs/mux.md section 6), which closes the session
 * and so wakes the slot. New streams go to the live session carrying the fewest streams.
 */
import type { Logger } from 'pino';
import { codedError, ErrorCode } from '../shared/errors.ts';
import type { MuxSession } from '../shared/mux/session.ts';
import { backoffDelay, checkBackoff, type BackoffOptions } from './backoff.ts';

/** Hooks a dialed session reports through. */
export interface DialHooks {
  /** Aborts the dial (pool closing). */
  readonly signal: AbortSignal;
  /** Call when the peer sends GOAWAY: the slot stops using the session and dials a replacement. */
  readonly onGoAway: () => void;
}

/** Dials one session to `url` (WebSocket, Noise IK, mux). Rejects with a coded error. */
export type SessionDialer = (url: string, hooks: DialHooks) => Promise<MuxSession>;

/** Options of a SessionPool. */
export interface SessionPoolOptions {
  /** Handler URLs, in failover order. */
  readonly urls: readonly string[];
  /** Sessions kept open (config poolSize). */
  readonly size: number;
  readonly dial: SessionDialer;
  readonly backoff: BackoffOptions;
  /** [0, 1) source for jitter; default Math.random. */
  readonly random?: () => number;
  readonly logger?: Logger;
  /** Called with the number of live sessions whenever it changes (metrics). */
  readonly onSessionCount?: (count: number) => void;
  /** Called on every reconnect attempt after a slot's first dial (metrics). */
  readonly onReconnect?: () => void;
  /** Called for every failed dial, with the URL index and the error (the caller logs it). */
  readonly onDialError?: (urlIndex: number, error: unknown) => void;
}

/** A live session and where it goes. */
export interface PooledSession {
  readonly session: MuxSession;
  /** Index into `urls`. */
  readonly urlIndex: number;
}

/** Options of acquire(). */
export interface AcquireOptions {
  /** Stop waiting (the caller's open deadline or the app leaving). */
  readonly signal?: AbortSignal;
  /** Sessions not to use (a retry after one of them refused the stream). */
  readonly exclude?: ReadonlySet<MuxSession>;
}

interface Slot {
  readonly id: number;
  current: PooledSession | null;
}

interface Waiter {
  readonly exclude: ReadonlySet<MuxSession> | undefined;
  readonly resolve: (session: MuxSession) => void;
  readonly reject: (err: Error) => void;
}

/** Keeps `size` sessions to handlers alive and hands out the least loaded one. */
export class SessionPool {
  readonly #o: SessionPoolOptions;
  readonly #slots: Slot[];
  readonly #controller = new AbortController();
  readonly #waiters = new Set<Waiter>();
  /** Sessions that got GOAWAY: no new streams, closed with the pool if still open. */
  readonly #draining = new Set<MuxSession>();
  #loops: Promise<void>[] = [];
  #started = false;
  #liveCount = 0;

  /** Checks options (BAD_CONFIG); call start() to begin dialing. */
  constructor(options: SessionPoolOptions) {
    if (options.urls.length === 0) throw codedError(RangeError, ErrorCode.BAD_CONFIG, 'handlers must list at least one URL');
    if (!Number.isInteger(options.size) || options.size < 1) {
      throw codedError(RangeError, ErrorCode.BAD_CONFIG, `poolSize must be a positive integer, got ${options.size}`);
    }
    checkBackoff(options.backoff);
    this.#o = options;
    this.#slots = Array.from({ length: options.size }, (_, id) => ({ id, current: null }));
  }

  /** Starts every slot's dial loop (idempotent). */
  start(): void {
    if (this.#started || this.#controller.signal.aborted) return;
    this.#started = true;
    this.#loops = this.#slots.map((slot) => this.#run(slot));
  }

  /** Sessions currently usable for new streams. */
  get live(): PooledSession[] {
    const out: PooledSession[] = [];
    for (const slot of this.#slots) {
      const c = slot.current;
      if (c !== null && usable(c.session)) out.push(c);
    }
    return out;
  }

  /** True once close() was called. */
  get closed(): boolean {
    return this.#controller.signal.aborted;
  }

  /**
   * The usable session with the fewest open streams; waits for one when none is up. Rejects
   * with CLOSED once the pool is closed, or with the signal's reason when it aborts.
   */
  acquire(options: AcquireOptions = {}): Promise<MuxSession> {
    if (this.closed) return Promise.reject(codedError(Error, ErrorCode.CLOSED, 'Session pool is closed'));
    const found = this.#pick(options.exclude);
    if (found !== null) return Promise.resolve(found);
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<MuxSession>((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiters.delete(waiter);
        reject(abortReason(signal as AbortSignal));
      };
      const waiter: Waiter = {
        exclude: options.exclude,
        resolve: (session) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(session);
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      this.#waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Stops every loop and closes every session (GOAWAY, then the WebSocket). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.#controller.abort(codedError(Error, ErrorCode.CLOSED, 'Session pool is closed'));
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const w of waiters) w.reject(codedError(Error, ErrorCode.CLOSED, 'Session pool is closed'));
    const sessions: MuxSession[] = [...this.#draining];
    for (const slot of this.#slots) if (slot.current !== null) sessions.push(slot.current.session);
    for (const s of sessions) s.close();
    await Promise.all([...this.#loops, ...sessions.map((s) => s.closed)]);
  }

  #pick(exclude: ReadonlySet<MuxSession> | undefined): MuxSession | null {
    let best: MuxSession | null = null;
    for (const slot of this.#slots) {
      const s = slot.current?.session;
      if (s === undefined || !usable(s) || exclude?.has(s) === true) continue;
      if (best === null || s.streamCount < best.streamCount) best = s;
    }
    return best;
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) {
      const s = this.#pick(waiter.exclude);
      if (s === null) continue;
      this.#waiters.delete(waiter);
      waiter.resolve(s);
    }
  }

  #setCurrent(slot: Slot, current: PooledSession | null): void {
    slot.current = current;
    const count = this.#slots.filter((s) => s.current !== null).length;
    if (count !== this.#liveCount) {
      this.#liveCount = count;
      this.#o.onSessionCount?.(count);
    }
    if (current !== null) this.#wake();
  }

  async #run(slot: Slot): Promise<void> {
    const { urls } = this.#o;
    const signal = this.#controller.signal;
    const log = this.#o.logger;
    let urlIndex = slot.id % urls.length;
    let failures = 0;
    let first = true;
    while (!signal.aborted) {
      if (!first) this.#o.onReconnect?.();
      first = false;
      const url = urls[urlIndex] as string;
      let goAway!: () => void;
      const wentAway = new Promise<'goaway'>((resolve) => {
        goAway = () => resolve('goaway');
      });
      let session: MuxSession;
      try {
        session = await this.#o.dial(url, { signal, onGoAway: () => goAway() });
      } catch (err) {
        if (signal.aborted) return;
        this.#o.onDialError?.(urlIndex, err);
        urlIndex = (urlIndex + 1) % urls.length;
        const delay = backoffDelay(failures, this.#o.backoff, this.#o.random);
        failures++;
        await sleep(delay, signal);
        continue;
      }
      if (signal.aborted) {
        session.close();
        return;
      }
      failures = 0;
      this.#setCurrent(slot, { session, urlIndex });
      log?.info({ slot: slot.id, handler: urlIndex, sessions: this.#liveCount }, 'session up');
      let onAbort!: () => void;
      const aborted = new Promise<'aborted'>((resolve) => {
        onAbort = () => resolve('aborted');
        signal.addEventListener('abort', onAbort, { once: true });
      });
      const ended = await Promise.race([session.closed.then((err) => ({ err })), wentAway, aborted]);
      signal.removeEventListener('abort', onAbort);
      this.#setCurrent(slot, null);
      if (ended === 'aborted') return;
      if (ended === 'goaway') {
        // Old streams finish on the draining session; new ones need a replacement now.
        this.#draining.add(session);
        void session.closed.then(() => this.#draining.delete(session));
        log?.info({ slot: slot.id, handler: urlIndex }, 'handler sent GOAWAY; replacing the session');
      } else {
        const err = ended.err;
        log?.warn(
          { slot: slot.id, handler: urlIndex, code: (err as { code?: string } | undefined)?.code, err: err?.message },
          'session lost; reconnecting',
        );
      }
      urlIndex = (urlIndex + 1) % urls.length;
      await sleep(backoffDelay(0, this.#o.backoff, this.#o.random), signal);
    }
  }
}

function usable(s: MuxSession): boolean {
  return !s.isClosed && !s.goingAway;
}

function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  return r instanceof Error ? r : codedError(Error, ErrorCode.ABORTED, 'Waiting for a session was aborted', r);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * One dialed link kept alive (links.poolSize of these per dial-mode exit): dial, hand the link
 * to the pool, wait for it to drop, back off with jitter, dial again, until stopped.
 */
import type { Logger } from '../../shared/log.ts';
import type { ExitRecord } from '../state/types.ts';
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import type { ExitLink } from './link.ts';

/** What a slot needs from its pool. */
export interface SlotHost {
  readonly logger: Logger;
  readonly backoff: BackoffOptions;
  readonly random: () => number;
  readonly drainTimeoutMs: number;
  /** Dials and handshakes one link. */
  dial(record: ExitRecord, signal: AbortSignal): Promise<ExitLink>;
  /** Takes a new link into the pool. */
  adopt(link: ExitLink): void;
}

/** One dialed link kept alive: dial, wait for it to drop, back off, dial again. */
export class DialSlot {
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #abort = new AbortController();
  #link: ExitLink | null = null;
  #stopped = false;
  readonly #pool: SlotHost;
  readonly #record: ExitRecord;

  constructor(pool: SlotHost, record: ExitRecord) {
    this.#pool = pool;
    this.#record = record;
  }

  start(): void {
    void this.#connect();
  }

  /** Stops redialing; the current link drains (or closes at once with `now`). */
  stop(now: boolean): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#abort.abort();
    const link = this.#link;
    if (link === null) return;
    if (now) link.close();
    else void link.drain(this.#pool.drainTimeoutMs);
  }

  async #connect(): Promise<void> {
    if (this.#stopped) return;
    let link: ExitLink;
    try {
      link = await this.#pool.dial(this.#record, this.#abort.signal);
    } catch (err) {
      if (this.#stopped) return;
      this.#pool.logger.debug({ exit: this.#record.id, err }, 'link dial failed');
      this.#schedule();
      return;
    }
    if (this.#stopped) {
      link.close();
      return;
    }
    this.#attempt = 0;
    this.#link = link;
    this.#pool.adopt(link);
    await link.closed;
    this.#link = null;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    const delay = backoffDelay(this.#attempt++, this.#pool.backoff, this.#pool.random);
    this.#timer = setTimeout(() => void this.#connect(), delay);
  }
}

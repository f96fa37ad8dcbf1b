/**
 * Reverse mode: an exit behind NAT dials each handler's link URL (config.handlers) and keeps
 * one link to each up. The exit is the Noise KK initiator (static = exit key, remote = cluster
 * key); the handler, as responder, recognises the exit by trying the registered reverse-mode
 * exit keys on message 1 (team DATAPLANE contract). Whoever dialled, the handler still opens
 * the streams, so the session is the same acceptor as in dial mode (links.ts).
 *
 * A failed dial or handshake waits an exponentially growing, jittered delay (backoff.ts); a
 * link that came up resets the delay, and when it goes down the exit dials again.
 */
import { initiate, type HelloTemplate } from '../../shared/channel/handshake.ts';
import { createLinkInitiator } from '../../shared/crypto/session.ts';
import type { StaticKey } from '../../shared/crypto/static-key.ts';
import type { Logger } from '../../shared/log.ts';
import { Role } from '../../shared/protocol/hello.ts';
import { MAX_NOISE_MESSAGE } from '../../shared/protocol/constants.ts';
import { dialWebSocket } from '../../shared/runtime/index.ts';
import { Backoff, type BackoffOptions } from './backoff.ts';
import type { LinkSet } from './links.ts';

/** What a reverse dialer needs. */
export interface ReverseDialerOptions {
  url: string;
  staticKey: StaticKey;
  clusterPublicKey: Uint8Array;
  hello: HelloTemplate;
  /** Deadline for the dial (TCP, TLS, upgrade), and again for the Noise handshake. */
  handshakeTimeoutMs: number;
  links: LinkSet;
  logger: Logger;
  backoff?: Partial<BackoffOptions>;
}

/** Progress of one reverse dialer (for tests and /metrics-adjacent debugging). */
export interface ReverseDialerState {
  readonly url: string;
  /** Dials started. */
  attempts: number;
  /** Links established. */
  connected: number;
  /** Failures in a row right now. */
  failures: number;
  /** True while a link from this dialer is up. */
  up: boolean;
  /** Delays waited after failures, most recent last (at most 32 kept). */
  delays: number[];
}

/** Keeps one link to one handler URL up until close(). */
export class ReverseDialer {
  readonly state: ReverseDialerState;
  readonly #o: ReverseDialerOptions;
  readonly #backoff: Backoff;
  readonly #stop = new AbortController();
  readonly #done: Promise<void>;
  #wake: (() => void) | null = null;

  constructor(options: ReverseDialerOptions) {
    this.#o = options;
    this.#backoff = new Backoff(options.backoff);
    this.state = { url: options.url, attempts: 0, connected: 0, failures: 0, up: false, delays: [] };
    this.#done = this.#run();
  }

  /**
   * Stops dialling at once (an attempt in flight is aborted). An established link is left to
   * LinkSet.drain(); the promise resolves when the loop ended, i.e. after that link is down.
   */
  close(): Promise<void> {
    this.#stop.abort();
    this.#wake?.();
    return this.#done;
  }

  async #run(): Promise<void> {
    const log = this.#o.logger.child({ component: 'reverse' });
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      this.state.attempts++;
      let closed: Promise<Error | undefined> | null;
      try {
        // As on handler-dialled links, Noise KK authenticates the handler by the cluster key; TLS
        // only hides the link, so a handler with a self-signed certificate is fine.
        const ws = await dialWebSocket(this.#o.url, {
          timeoutMs: this.#o.handshakeTimeoutMs,
          signal,
          maxPayload: MAX_NOISE_MESSAGE,
          tls: { insecure: true },
        });
        const state = createLinkInitiator({ staticKey: this.#o.staticKey, remoteStatic: this.#o.clusterPublicKey });
        const est = await initiate(ws, state, this.#o.hello, Role.HANDLER, { timeoutMs: this.#o.handshakeTimeoutMs, signal });
        closed = this.#o.links.attach(est, 'reverse', this.#o.url);
      } catch (err) {
        if (signal.aborted) break;
        const delay = this.#backoff.next();
        this.state.failures = this.#backoff.failures;
        this.state.delays.push(delay);
        if (this.state.delays.length > 32) this.state.delays.shift();
        log.warn({ url: this.#o.url, err: describe(err), retryInMs: delay, failures: this.state.failures }, 'link dial failed');
        await this.#sleep(delay);
        continue;
      }
      if (closed === null) break;
      this.#backoff.reset();
      this.state.failures = 0;
      this.state.connected++;
      this.state.up = true;
      await closed;
      this.state.up = false;
      if (signal.aborted) break;
      // A link that just went down is redialled after the shortest delay, with its jitter.
      await this.#sleep(this.#backoff.next());
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.#stop.signal.aborted) return resolve();
      const timer = setTimeout(() => {
        this.#wake = null;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
    });
  }
}

function describe(err: unknown): { code?: string; message: string } {
  if (!(err instanceof Error)) return { message: String(err) };
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? { code, message: err.message } : { message: err.message };
}

/**
 * Bookkeeping for one app connection while its proxy handshake runs: a deadline for the
 * handshake, bytes that arrive while the tunnel opens (the socket is paused then, but a chunk
 * already read may still land), and a signal that fires when the app goes away so a pending
 * OPEN is cancelled.
 */
import type { TcpConnection } from '../shared/runtime/tcp.ts';
import { PROXY_HANDSHAKE_TIMEOUT_MS } from './context.ts';

/** Handshake-phase state of one app connection. */
export class AppConnection {
  readonly conn: TcpConnection;
  /** Aborts when the app's socket closes. */
  readonly gone: AbortSignal;
  /** Raw bytes received after the request while the tunnel was opening. */
  readonly held: Uint8Array[] = [];
  readonly #controller = new AbortController();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(conn: TcpConnection, handshakeTimeoutMs = PROXY_HANDSHAKE_TIMEOUT_MS) {
    this.conn = conn;
    this.gone = this.#controller.signal;
    this.#timer = setTimeout(() => conn.destroy(), handshakeTimeoutMs);
    conn.onClose(() => {
      this.stopDeadline();
      this.#controller.abort();
    });
  }

  /** The request is complete: the open deadline takes over from the handshake deadline. */
  stopDeadline(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Pauses reading and keeps whatever still arrives until the tunnel is bridged. */
  hold(): void {
    this.conn.pause();
    this.conn.onData((chunk) => this.held.push(chunk));
  }

  /**
   * Writes a final answer (a refusal) and half-closes; the socket is destroyed if the app has
   * not closed its side within a short grace period.
   */
  finish(answer: Uint8Array | null, graceMs = 2_000): void {
    this.stopDeadline();
    const conn = this.conn;
    conn.onData(() => {});
    conn.onEnd(() => conn.destroy());
    if (answer !== null && answer.byteLength > 0) conn.write(answer);
    conn.end();
    conn.resume();
    const timer = setTimeout(() => conn.destroy(), graceMs);
    conn.onClose(() => {
      clearTimeout(timer);
      this.#controller.abort();
    });
  }
}

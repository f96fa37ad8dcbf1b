/**
 * A MessageTransport wrapper that notes when the peer last sent anything, for the session
 * idle timeout (limits.idleTimeout: "no frames, not even PING, for this long"). Everything else
 * passes straight through to the SecureChannel underneath.
 */
import type { MessageTransport } from '../../shared/mux/transport.ts';

/** The channel, plus the time of the last inbound message. */
export class ActivityTransport implements MessageTransport {
  /** Milliseconds (from `now`) of the last inbound message, or of creation. */
  lastActivity: number;
  readonly #inner: MessageTransport;
  readonly #now: () => number;

  constructor(inner: MessageTransport, now: () => number = Date.now) {
    this.#inner = inner;
    this.#now = now;
    this.lastActivity = now();
  }

  get bufferedAmount(): number {
    return this.#inner.bufferedAmount;
  }

  get sendCopies(): boolean {
    return this.#inner.sendCopies === true;
  }

  send(message: Uint8Array): boolean {
    return this.#inner.send(message);
  }

  onMessage(handler: (message: Uint8Array) => void): void {
    this.#inner.onMessage((message) => {
      this.lastActivity = this.#now();
      handler(message);
    });
  }

  onDrain(handler: () => void): void {
    this.#inner.onDrain(handler);
  }

  onClose(handler: (code: number, reason: string, error?: Error) => void): void {
    this.#inner.onClose(handler);
  }

  close(code?: number, reason?: string): void {
    this.#inner.close(code, reason);
  }

  terminate(): void {
    if (this.#inner.terminate !== undefined) this.#inner.terminate();
    else this.#inner.close();
  }
}

/**
 * Relays one link stream to one egress TCP connection, with backpressure both ways and no
 * buffer of its own (docs/protocol.md 5, docs/mux.md 3):
 *
 * - link -> target: a chunk is read from the stream, written to the socket, and the next
 *   read() (which returns the previous chunk's credit to the handler) happens only once the
 *   socket took the bytes (write() true, or its drain). A target that stops reading therefore
 *   closes the stream window back to the client.
 * - target -> link: each socket chunk goes into the stream's send queue and the socket stays
 *   paused until that write() resolves, i.e. until the queue is under its high-water mark,
 *   which only drains within the handler's credit. A stalled reader stops the target.
 * - FIN <-> TCP half-close both ways; RESET <-> TCP RST; a socket error resets the stream.
 */
import { CloseCode } from '../../shared/protocol/codes.ts';
import type { MuxStream } from '../../shared/mux/stream.ts';
import type { TcpConnection } from '../../shared/runtime/tcp.ts';

/** Byte direction: up = toward the internet (link -> target), down = toward the app. */
export type Direction = 'up' | 'down';

/** What a bridge reports to its owner. */
export interface BridgeHooks {
  /** Payload bytes moved in one direction. */
  bytes(direction: Direction, n: number): void;
  /** Both the stream and the socket are closed; called once. */
  closed(): void;
  /** Monotonic clock in ms (for idle tracking). */
  now(): number;
}

/** Bytes a bridge holds right now, by where they wait. */
export interface BridgeBuffers {
  /** Written to the socket, not yet taken by the kernel. */
  toTarget: number;
  /** Queued on the link stream, waiting for credit or the WebSocket. */
  toLink: number;
  /** Received from the link and not read yet (bounded by the stream window we granted). */
  unread: number;
}

/** One stream <-> socket relay. Build it after connecting and accept()ing, then start(). */
export class TcpBridge {
  readonly stream: MuxStream;
  readonly conn: TcpConnection;
  /** Last time a byte moved either way (hooks.now() clock). */
  lastActivity: number;

  readonly #hooks: BridgeHooks;
  #upDone = false;
  #downDone = false;
  #socketClosed = false;
  #streamClosed = false;
  #reported = false;
  #pendingWrites = 0;
  #drainWaiter: (() => void) | null = null;

  constructor(stream: MuxStream, conn: TcpConnection, hooks: BridgeHooks) {
    this.stream = stream;
    this.conn = conn;
    this.#hooks = hooks;
    this.lastActivity = hooks.now();
  }

  /** Starts both directions. */
  start(): void {
    const conn = this.conn;
    conn.onDrain(() => this.#wake());
    conn.onEnd(() => this.#targetEnded());
    conn.onClose((error) => this.#socketGone(error));
    conn.onData((chunk) => this.#fromTarget(chunk));
    void this.stream.closed.then(() => this.#streamGone());
    void this.#pumpToTarget();
  }

  /** Bytes held for this stream right now. */
  get buffers(): BridgeBuffers {
    return { toTarget: this.conn.bufferedAmount, toLink: this.stream.writableLength, unread: this.stream.readableLength };
  }

  /** True once the stream and the socket are both closed. */
  get done(): boolean {
    return this.#streamClosed && this.#socketClosed;
  }

  /** Aborts both sides: RESET(code) on the stream, RST on the socket. */
  abort(code: (typeof CloseCode)[keyof typeof CloseCode]): void {
    this.stream.reset(code);
    if (!this.#socketClosed) this.conn.reset();
  }

  #fromTarget(chunk: Uint8Array): void {
    const n = chunk.byteLength;
    if (n === 0) return;
    this.lastActivity = this.#hooks.now();
    this.#hooks.bytes('down', n);
    this.#pendingWrites++;
    // Held until the stream's queue is under its high-water mark (it drains within credit).
    this.conn.pause();
    this.stream.write(chunk).then(
      () => {
        this.#pendingWrites--;
        if (this.#pendingWrites === 0 && !this.#socketClosed) this.conn.resume();
      },
      () => {
        // The stream was reset or its link closed; #streamGone tears the socket down.
        this.#pendingWrites--;
      },
    );
  }

  #targetEnded(): void {
    this.#downDone = true;
    // FIN follows the queued bytes (docs/protocol.md 3.2: FIN = TCP half-close).
    this.stream.end();
  }

  async #pumpToTarget(): Promise<void> {
    for (;;) {
      let chunk: Uint8Array | null;
      try {
        // Calling read() again is what returns the previous chunk's credit: only after the
        // socket accepted it.
        chunk = await this.stream.read();
      } catch {
        // RESET from the handler, or the link is gone: abort the TCP connection too.
        if (!this.#socketClosed) this.conn.reset();
        return;
      }
      if (chunk === null) {
        this.#upDone = true;
        if (!this.#socketClosed) this.conn.end();
        return;
      }
      if (this.#socketClosed) return;
      this.lastActivity = this.#hooks.now();
      this.#hooks.bytes('up', chunk.byteLength);
      if (!this.conn.write(chunk)) await this.#drained();
    }
  }

  #drained(): Promise<void> {
    if (this.#socketClosed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#drainWaiter = resolve;
    });
  }

  #wake(): void {
    const w = this.#drainWaiter;
    this.#drainWaiter = null;
    w?.();
  }

  #socketGone(error?: Error): void {
    this.#socketClosed = true;
    this.#wake();
    // A clean close needs both FINs; anything else (RST, EPIPE, our destroy) loses bytes.
    if (!this.#streamClosed && (error !== undefined || !this.#upDone || !this.#downDone)) {
      this.stream.reset(CloseCode.CONNECTION_RESET);
    }
    this.#maybeReport();
  }

  #streamGone(): void {
    this.#streamClosed = true;
    // Closed by both FINs: the socket finishes its own half-closes. Otherwise it was reset,
    // refused or lost with its link: the target gets an RST.
    if (this.stream.error !== null && !this.#socketClosed) this.conn.reset();
    this.#maybeReport();
  }

  #maybeReport(): void {
    if (this.#reported || !this.done) return;
    this.#reported = true;
    this.#hooks.closed();
  }
}

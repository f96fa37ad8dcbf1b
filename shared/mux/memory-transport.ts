import type { MessageTransport } from './transport.ts';

/** One end of an in-memory transport pair, with controls tests use to stall the "network". */
export interface MemoryTransport extends MessageTransport {
  /** Stops delivering this end's outbound messages; they pile up in `bufferedAmount`. */
  pause(): void;
  /** Resumes delivery of this end's outbound messages. */
  resume(): void;
  /** Drops the link abruptly: both ends see `onClose(1006, '', err)`, nothing more is delivered. */
  fail(err: Error): void;
  /** Messages this end has sent so far. */
  readonly sentMessages: number;
  /** Bytes this end has sent so far. */
  readonly sentBytes: number;
  /** True once either end closed or failed. */
  readonly closed: boolean;
}

/** Watermarks of a memory transport's send queue (the WsLimits of shared/runtime/websocket.ts). */
export interface MemoryTransportOptions {
  /** `send` returns false once this many bytes are queued; default 1 MiB. */
  highWaterMark?: number;
  /** `onDrain` fires when the queue falls to this many bytes after a false `send`; default 256 KiB. */
  lowWaterMark?: number;
  /** Schedules a delivery; default a macrotask (`setImmediate`, else `setTimeout(0)`). */
  defer?: (fn: () => void) => void;
}

// A macrotask, so timers and I/O interleave with a long transfer the way they do on a socket.
const defaultDefer = (fn: () => void): void => {
  if (typeof globalThis.setImmediate === 'function') globalThis.setImmediate(fn);
  else globalThis.setTimeout(fn, 0);
};

class End implements MemoryTransport {
  peer!: End;
  private queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private paused = false;
  private scheduled = false;
  private needDrain = false;
  private closing = false;
  private closeReported = false;
  private messageHandler: (message: Uint8Array) => void = () => {};
  private drainHandler: () => void = () => {};
  private closeHandler: (code: number, reason: string, error?: Error) => void = () => {};
  private readonly high: number;
  private readonly low: number;
  private readonly defer: (fn: () => void) => void;
  sentMessages = 0;
  sentBytes = 0;
  closed = false;

  constructor(options: MemoryTransportOptions) {
    this.high = options.highWaterMark ?? 1 << 20;
    this.low = options.lowWaterMark ?? 1 << 18;
    this.defer = options.defer ?? defaultDefer;
  }

  get bufferedAmount(): number {
    return this.queuedBytes;
  }

  send(message: Uint8Array): boolean {
    if (this.closed || this.closing) return false;
    this.sentMessages++;
    this.sentBytes += message.byteLength;
    this.queue.push(message);
    this.queuedBytes += message.byteLength;
    this.schedule();
    if (this.queuedBytes >= this.high) {
      this.needDrain = true;
      return false;
    }
    return true;
  }

  onMessage(handler: (message: Uint8Array) => void): void {
    this.messageHandler = handler;
  }

  onDrain(handler: () => void): void {
    this.drainHandler = handler;
  }

  onClose(handler: (code: number, reason: string, error?: Error) => void): void {
    this.closeHandler = handler;
  }

  close(): void {
    if (this.closed || this.closing) return;
    // Like a WebSocket close: what was already sent is still delivered, then both ends close.
    this.closing = true;
    this.schedule();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.schedule();
  }

  fail(err: Error): void {
    this.shutdown(1006, err);
  }

  private deliver(message: Uint8Array): void {
    if (!this.closed) this.messageHandler(message);
  }

  private schedule(): void {
    if (this.scheduled || this.paused || this.closed) return;
    this.scheduled = true;
    this.defer(() => this.pump());
  }

  private pump(): void {
    this.scheduled = false;
    if (this.closed || this.paused) return;
    const batch = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    for (const message of batch) {
      if (this.closed) return;
      this.peer.deliver(message);
    }
    if (this.closing) {
      this.shutdown(1000);
      return;
    }
    if (this.needDrain && this.queuedBytes <= this.low && !this.closed) {
      this.needDrain = false;
      this.drainHandler();
    }
  }

  private shutdown(code: number, err?: Error): void {
    for (const end of [this, this.peer]) {
      end.closed = true;
      end.queue = [];
      end.queuedBytes = 0;
    }
    this.reportClose(code, err);
    this.peer.reportClose(code, err);
  }

  private reportClose(code: number, err?: Error): void {
    if (this.closeReported) return;
    this.closeReported = true;
    if (err === undefined) this.closeHandler(code, '');
    else this.closeHandler(code, '', err);
  }
}

/**
 * Builds two connected in-memory transports (a duplex pair, like ws's test sockets): what one
 * end sends, the other receives on a later macrotask, in order, without copying.
 */
export function createMemoryTransportPair(options: MemoryTransportOptions = {}): [MemoryTransport, MemoryTransport] {
  const a = new End(options);
  const b = new End(options);
  a.peer = b;
  b.peer = a;
  return [a, b];
}

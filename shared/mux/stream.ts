/**
 * One multiplexed stream: a bounded send queue drained within the peer's credit, and a receive
 * queue whose credit goes back to the peer only as the consumer takes bytes out (docs/mux.md).
 * The stream is a state machine driven by its session; it never touches the transport itself.
 */
import { codedError, ErrorCode } from '../errors.ts';
import type { Endpoint } from '../protocol/address.ts';
import { CloseCode, OpenFailReason, type CloseCodeValue, type OpenFailReasonValue } from '../protocol/codes.ts';
import { FrameType, Network } from '../protocol/constants.ts';
import type { Frame } from '../protocol/frame.ts';
import { ChunkQueue } from './chunk-queue.ts';
import { ReceiveWindow, SendWindow, type WindowTuning } from './flow-window.ts';
import { closedError, openFailedError } from './mux-errors.ts';
import type { OpenRequest } from './options.ts';

/** Where a stream is in its life (docs/protocol.md 3.2). */
export const StreamPhase = {
  /** Opener: OPEN sent, waiting for OPEN_OK or OPEN_FAIL. Early data may flow. */
  OPENING: 'opening',
  /** Acceptor: OPEN received, waiting for the app's accept() or reject(). */
  PENDING: 'pending',
  /** Both sides may exchange DATA (until each side's FIN). */
  OPEN: 'open',
  /** Both FINs exchanged, or reset, refused or failed. */
  CLOSED: 'closed',
} as const;

/** One of the StreamPhase values. */
export type StreamPhaseValue = (typeof StreamPhase)[keyof typeof StreamPhase];

/** Our FIN: not asked for, asked for by end() (sent after the queue drains), or sent. */
export const LocalFin = { NONE: 0, QUEUED: 1, SENT: 2 } as const;

/** The session services a stream calls; implemented by MuxSession. */
export interface StreamHost {
  readonly streamHighWater: number;
  readonly maxStreamQueue: number;
  /** True while all streams together queue no more than the session high-water mark. */
  sessionBelowHighWater(): boolean;
  /** Queues a control frame (WINDOW, OPEN_OK, OPEN_FAIL, RESET) and schedules a flush. */
  queueControl(frame: Frame): void;
  /** Queues a datagram; false when it was dropped. */
  queueDatagram(frame: Frame): boolean;
  /** The stream has DATA or a FIN to send. */
  wantsToSend(stream: MuxStream): void;
  /** The stream has a write() waiting for its queue to fall. */
  writeBlocked(stream: MuxStream): void;
  /** Adjusts the session-wide count of queued bytes. */
  queuedDelta(n: number): void;
  /**
   * Returns session-level credit for `n` bytes: `consumed` when the app took them (they count
   * for window auto-tuning), false when they were thrown away.
   */
  releaseSessionCredit(n: number, consumed: boolean): void;
  /** The stream reached CLOSED; forget its id. */
  streamClosed(stream: MuxStream): void;
  /** Acceptor: a pending stream was accepted; start its deadline-free life. */
  streamAnswered(stream: MuxStream): void;
  /** How stream receive windows grow (null: they keep the hello's size). */
  readonly streamTuning: WindowTuning | null;
  /** A stream's receive window grew to `size` bytes (the session window follows it). */
  streamWindowGrew(size: number): void;
  /** The receive window a new stream of this session starts with: what earlier ones grew to. */
  streamWindowHint(): number;
}

type Waiter<T> = { resolve: (value: T) => void; reject: (err: Error) => void };

const RESOLVED: Promise<void> = Promise.resolve();
const DATAGRAM_BACKLOG = 64;

/** A stream of a MuxSession. Created by `session.open()` or handed to `onOpen`. */
export class MuxStream {
  /** Stream id on this session or link (odd; chosen by the opener). */
  readonly id: number;
  /** What the OPEN asked for. */
  readonly request: OpenRequest;
  /** True on the side that sent the OPEN. */
  readonly isOpener: boolean;
  /** Resolves on OPEN_OK (opener) or accept() (acceptor); rejects with OPEN_FAILED, REFUSED, TIMEOUT or CLOSED. */
  readonly opened: Promise<void>;
  /** Resolves once the stream is CLOSED, whichever way. Never rejects. */
  readonly closed: Promise<void>;

  /** @internal */ phase: StreamPhaseValue;
  /** @internal */ readonly sendQueue = new ChunkQueue();
  /** @internal */ readonly sendWindow: SendWindow;
  /** @internal */ localFin: number = LocalFin.NONE;
  /** @internal */ openTimer: unknown = undefined;

  private readonly host: StreamHost;
  private readonly recvQueue = new ChunkQueue();
  private readonly recvWindow: ReceiveWindow;
  private remoteFin = false;
  private handedOut = 0;
  private creditBeforeAnswer = 0;
  private readWaiter: Waiter<Uint8Array | null> | null = null;
  private writeWaiters: Waiter<void>[] = [];
  private failure: Error | null = null;
  private openSettle: Waiter<void> | null = null;
  private closedResolve!: () => void;
  private datagramHandler: ((address: Endpoint, payload: Uint8Array) => void) | null = null;
  private datagramBacklog: Array<[Endpoint, Uint8Array]> = [];

  /** @internal Built by MuxSession only. */
  constructor(host: StreamHost, id: number, request: OpenRequest, isOpener: boolean, sendWindow: number, recvWindow: number) {
    this.host = host;
    this.id = id;
    this.request = request;
    this.isOpener = isOpener;
    this.phase = isOpener ? StreamPhase.OPENING : StreamPhase.PENDING;
    this.sendWindow = new SendWindow(sendWindow);
    this.recvWindow = new ReceiveWindow(recvWindow, host.streamTuning);
    this.opened = new Promise<void>((resolve, reject) => {
      this.openSettle = { resolve, reject };
    });
    // Callers that never await `opened` must not trip an unhandled rejection.
    this.opened.catch(() => {});
    this.closed = new Promise<void>((resolve) => {
      this.closedResolve = resolve;
    });
  }

  /** Bytes queued locally, not yet sent (waiting for credit or the transport). */
  get writableLength(): number {
    return this.sendQueue.byteLength;
  }

  /** Bytes received and not yet read. */
  get readableLength(): number {
    return this.recvQueue.byteLength;
  }

  /** Bytes this stream's receive window has grown to (the hello's streamWindow, plus auto-tuning). */
  get receiveWindow(): number {
    return this.recvWindow.size;
  }

  /** Bytes the peer currently lets us send on this stream. */
  get sendCredit(): number {
    return this.sendWindow.credit;
  }

  /** Why the stream ended abnormally (reset, refused, failed, session closed), else null. */
  get error(): Error | null {
    return this.failure;
  }

  /**
   * Queues `data` (taken without a copy: do not modify it afterwards). The promise resolves at
   * once while the queue is under the high-water mark, else when it drains below it: await it
   * before reading more from the source. Rejects after end(), reset or close (CLOSED,
   * STREAM_RESET, ...), or with BUFFER_LIMIT when the queue would pass maxStreamQueue.
   */
  write(data: Uint8Array): Promise<void> {
    const refusal = this.writeRefusal();
    if (refusal !== null) return Promise.reject(refusal);
    if (data.byteLength === 0) return RESOLVED;
    if (this.sendQueue.byteLength + data.byteLength > this.host.maxStreamQueue) {
      return Promise.reject(
        codedError(
          RangeError,
          ErrorCode.BUFFER_LIMIT,
          `Stream ${this.id} write of ${data.byteLength} bytes would queue more than maxStreamQueue (${this.host.maxStreamQueue})`,
        ),
      );
    }
    this.sendQueue.push(data);
    this.host.queuedDelta(data.byteLength);
    this.host.wantsToSend(this);
    if (this.belowHighWater()) return RESOLVED;
    this.host.writeBlocked(this);
    return new Promise<void>((resolve, reject) => this.writeWaiters.push({ resolve, reject }));
  }

  /** Half-closes our side: a FIN follows the queued data. Idempotent; a no-op once closed. */
  end(): void {
    if (this.localFin !== LocalFin.NONE || this.phase === StreamPhase.CLOSED) return;
    this.localFin = LocalFin.QUEUED;
    this.host.wantsToSend(this);
  }

  /**
   * Resolves with the next received chunk, or null after the peer's FIN once everything was
   * read. Calling read() again acknowledges the previous chunk: only then does its credit go
   * back to the peer, so a consumer that stops reading stops the sender. Rejects when the
   * stream was reset or failed. One read at a time.
   */
  read(): Promise<Uint8Array | null> {
    this.acknowledge();
    if (this.failure !== null) return Promise.reject(this.failure);
    const chunk = this.recvQueue.shift();
    if (chunk !== undefined) {
      this.handedOut = chunk.byteLength;
      return Promise.resolve(chunk);
    }
    if (this.remoteFin) return Promise.resolve(null);
    if (this.readWaiter !== null) {
      return Promise.reject(codedError(Error, ErrorCode.PROTOCOL, `Stream ${this.id} already has a read() pending`));
    }
    return new Promise((resolve, reject) => {
      this.readWaiter = { resolve, reject };
    });
  }

  /** Reads chunk by chunk until the peer's FIN (`for await (const chunk of stream)`). */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    for (;;) {
      const chunk = await this.read();
      if (chunk === null) return;
      yield chunk;
    }
  }

  /**
   * Aborts both directions: sends RESET(code) and drops both queues. On a stream still
   * waiting for accept() this answers OPEN_FAIL(GENERAL_FAILURE) instead, as the protocol
   * allows nothing else before the answer. A no-op once closed, except that unread data is dropped.
   */
  reset(code: CloseCodeValue = CloseCode.CANCEL): void {
    if (this.phase === StreamPhase.CLOSED) {
      this.discardReceived();
      return;
    }
    if (this.phase === StreamPhase.PENDING) {
      this.reject(OpenFailReason.GENERAL_FAILURE);
      return;
    }
    this.host.queueControl({ type: FrameType.RESET, streamId: this.id, code });
    this.terminate(closedError(ErrorCode.STREAM_RESET, code, false, `Stream ${this.id} was reset locally with code ${code}`));
  }

  /** Acceptor: answers the OPEN with OPEN_OK; data queued by write() flows after it. */
  accept(): void {
    if (this.phase !== StreamPhase.PENDING) return;
    this.phase = StreamPhase.OPEN;
    this.host.queueControl({ type: FrameType.OPEN_OK, streamId: this.id });
    this.host.streamAnswered(this);
    this.startAtHint();
    this.settleOpen(null);
    if (this.creditBeforeAnswer > 0) {
      this.returnStreamCredit(this.creditBeforeAnswer);
      this.creditBeforeAnswer = 0;
    }
    if (this.sendQueue.byteLength > 0 || this.localFin === LocalFin.QUEUED) this.host.wantsToSend(this);
  }

  /** Acceptor: answers the OPEN with OPEN_FAIL(reason); the stream is closed on both sides. */
  reject(reason: OpenFailReasonValue): void {
    if (this.phase !== StreamPhase.PENDING) return;
    this.host.queueControl({ type: FrameType.OPEN_FAIL, streamId: this.id, reason });
    this.terminate(openFailedError(reason, false));
  }

  /**
   * UDP streams: queues one datagram (opener: to `address`; acceptor: from `address`). Returns
   * false when it was dropped: stream not open, too large for the peer, or no buffer (datagrams
   * are unreliable and never wait for credit, docs/protocol.md 3.3).
   */
  sendDatagram(address: Endpoint, payload: Uint8Array): boolean {
    if (this.request.network !== Network.UDP || this.phase !== StreamPhase.OPEN || this.localFin !== LocalFin.NONE) return false;
    return this.host.queueDatagram({ type: FrameType.DATAGRAM, streamId: this.id, address, payload });
  }

  /** UDP streams: sets the handler for received datagrams (up to 64 that arrived earlier are replayed). */
  onDatagram(handler: (address: Endpoint, payload: Uint8Array) => void): void {
    this.datagramHandler = handler;
    const backlog = this.datagramBacklog;
    this.datagramBacklog = [];
    for (const [address, payload] of backlog) handler(address, payload);
  }

  // ---- driven by the session ----

  /**
   * @internal Grows the receive window at once to what earlier streams of the session grew to,
   * so a new download on a long path does not ramp from the hello's size again. The opener
   * calls it right after its OPEN, the acceptor after its OPEN_OK (nothing before the answer).
   */
  startAtHint(): void {
    const extra = this.recvWindow.ensureAtLeast(this.host.streamWindowHint());
    if (extra > 0) this.host.queueControl({ type: FrameType.WINDOW, streamId: this.id, increment: extra });
  }

  /** @internal OPEN_OK arrived. */
  handleOpenOk(): void {
    this.phase = StreamPhase.OPEN;
    this.settleOpen(null);
  }

  /** @internal DATA arrived (session credit already debited). */
  handleData(payload: Uint8Array): void {
    const n = payload.byteLength;
    if (this.remoteFin) {
      this.host.releaseSessionCredit(n, false);
      this.violate(CloseCode.STREAM_CLOSED, ErrorCode.PROTOCOL, 'DATA after FIN');
      return;
    }
    if (!this.recvWindow.receive(n)) {
      this.host.releaseSessionCredit(n, false);
      this.violate(CloseCode.FLOW_CONTROL_ERROR, ErrorCode.FLOW_CONTROL, `DATA of ${n} bytes beyond the stream credit`);
      return;
    }
    if (n === 0) return;
    const waiter = this.readWaiter;
    if (waiter !== null) {
      this.readWaiter = null;
      this.handedOut = n;
      waiter.resolve(payload);
    } else {
      this.recvQueue.push(payload);
    }
  }

  /** @internal WINDOW arrived for this stream. */
  handleWindow(increment: number): void {
    if (!this.sendWindow.grant(increment)) {
      this.violate(CloseCode.FLOW_CONTROL_ERROR, ErrorCode.FLOW_CONTROL, 'WINDOW overflowed the stream credit');
      return;
    }
    if (this.sendQueue.byteLength > 0) this.host.wantsToSend(this);
  }

  /** @internal FIN arrived. */
  handleFin(): void {
    if (this.remoteFin) {
      this.violate(CloseCode.STREAM_CLOSED, ErrorCode.PROTOCOL, 'second FIN');
      return;
    }
    this.remoteFin = true;
    // Nothing more will arrive: growing the window now would take budget for nothing.
    this.recvWindow.release();
    const waiter = this.readWaiter;
    if (waiter !== null && this.recvQueue.length === 0) {
      this.readWaiter = null;
      waiter.resolve(null);
    }
    if (this.localFin === LocalFin.SENT && this.phase === StreamPhase.OPEN) this.finish();
  }

  /** @internal DATAGRAM arrived on this stream. */
  handleDatagram(address: Endpoint, payload: Uint8Array): void {
    if (this.request.network !== Network.UDP) {
      this.violate(CloseCode.PROTOCOL_ERROR, ErrorCode.PROTOCOL, 'DATAGRAM on a tcp stream');
      return;
    }
    // Unreliable by contract: drop what arrives before the stream is open or after the peer's FIN.
    if (this.phase !== StreamPhase.OPEN || this.remoteFin) return;
    if (this.datagramHandler !== null) this.datagramHandler(address, payload);
    else if (this.datagramBacklog.length < DATAGRAM_BACKLOG) this.datagramBacklog.push([address, payload]);
  }

  /** @internal Our FIN went out. */
  finSent(): void {
    this.localFin = LocalFin.SENT;
    if (this.remoteFin && this.phase === StreamPhase.OPEN) this.finish();
  }

  /** @internal The queue drained below the marks: wake blocked writers. Returns true when none remain. */
  releaseWriters(): boolean {
    if (this.writeWaiters.length === 0) return true;
    if (!this.belowHighWater()) return false;
    const waiters = this.writeWaiters;
    this.writeWaiters = [];
    for (const w of waiters) w.resolve();
    return true;
  }

  /** @internal Ends the stream with `err` (peer RESET, OPEN_FAIL, timeout, session closed, violation). */
  terminate(err: Error): void {
    if (this.phase === StreamPhase.CLOSED) return;
    this.phase = StreamPhase.CLOSED;
    this.failure = err;
    const dropped = this.sendQueue.clear();
    if (dropped > 0) this.host.queuedDelta(-dropped);
    this.discardReceived();
    const reader = this.readWaiter;
    this.readWaiter = null;
    reader?.reject(err);
    const writers = this.writeWaiters;
    this.writeWaiters = [];
    for (const w of writers) w.reject(err);
    this.settleOpen(err);
    this.datagramBacklog = [];
    this.recvWindow.release();
    this.host.streamClosed(this);
    this.closedResolve();
  }

  /** @internal The peer broke a stream rule: RESET it with `code` and fail it locally. */
  violate(code: CloseCodeValue, errorCode: typeof ErrorCode.PROTOCOL | typeof ErrorCode.FLOW_CONTROL, what: string): void {
    // Before accept() the only thing the acceptor may send is the answer (docs/protocol.md 3.2).
    if (this.phase === StreamPhase.PENDING) {
      this.host.queueControl({ type: FrameType.OPEN_FAIL, streamId: this.id, reason: OpenFailReason.GENERAL_FAILURE });
    } else {
      this.host.queueControl({ type: FrameType.RESET, streamId: this.id, code });
    }
    this.terminate(closedError(errorCode, code, false, `Stream ${this.id} was reset: the peer sent ${what}`));
  }

  private finish(): void {
    this.phase = StreamPhase.CLOSED;
    // The last chunk handed out will not be followed by a read() when the app knew the length.
    this.acknowledge();
    this.recvWindow.release();
    this.host.streamClosed(this);
    this.closedResolve();
  }

  private acknowledge(): void {
    const n = this.handedOut;
    if (n === 0) return;
    this.handedOut = 0;
    this.host.releaseSessionCredit(n, true);
    if (this.phase === StreamPhase.PENDING) {
      // Early data read before accept(): the stream's WINDOW may only follow OPEN_OK.
      this.creditBeforeAnswer += n;
      return;
    }
    this.returnStreamCredit(n);
  }

  private returnStreamCredit(n: number): void {
    const before = this.recvWindow.size;
    const grant = this.recvWindow.consume(n);
    if (grant > 0 && !this.remoteFin && this.phase !== StreamPhase.CLOSED) {
      this.host.queueControl({ type: FrameType.WINDOW, streamId: this.id, increment: grant });
      if (this.recvWindow.size > before) this.host.streamWindowGrew(this.recvWindow.size);
    }
  }

  private discardReceived(): void {
    const n = this.recvQueue.clear() + this.handedOut;
    this.handedOut = 0;
    if (n > 0) this.host.releaseSessionCredit(n, false);
  }

  private settleOpen(err: Error | null): void {
    const settle = this.openSettle;
    if (settle === null) return;
    this.openSettle = null;
    if (err === null) settle.resolve();
    else settle.reject(err);
  }

  private belowHighWater(): boolean {
    return this.sendQueue.byteLength <= this.host.streamHighWater && this.host.sessionBelowHighWater();
  }

  private writeRefusal(): Error | null {
    if (this.failure !== null) return this.failure;
    if (this.phase === StreamPhase.CLOSED || this.localFin !== LocalFin.NONE) {
      return codedError(Error, ErrorCode.CLOSED, `Stream ${this.id} is closed for writing (end() was called)`);
    }
    if (this.phase === StreamPhase.PENDING) {
      return codedError(Error, ErrorCode.PROTOCOL, `Stream ${this.id} must be accepted before it is written to`);
    }
    return null;
  }
}

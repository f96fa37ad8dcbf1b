/**
 * A multiplexed session over one message transport: streams with per-stream and per-session
 * credit (RFC 9113 5.2, yamux), OPEN/OPEN_OK/OPEN_FAIL, FIN half-close, RESET, GOAWAY draining
 * and PING keepalive, with the rules of docs/protocol.md sections 3 and 5. Inbound messages are
 * handled inside a guard: a peer's violation resets the stream or closes this session with a
 * coded error; nothing is thrown back into the transport's callback.
 */
import { codedError, ErrorCode, type CodedError } from '../errors.ts';
import { CloseCode, OpenFailReason, type CloseCodeValue } from '../protocol/codes.ts';
import { FrameType, MAX_STREAM_ID, Network } from '../protocol/constants.ts';
import { decodeFrames } from '../protocol/decode.ts';
import type { Frame, GoAwayFrame, OpenFrame } from '../protocol/frame.ts';
import { Capability } from '../protocol/hello.ts';
import { ReceiveWindow, type WindowBudget, type WindowTuning } from './flow-window.ts';
import { Keepalive } from './keepalive.ts';
import { closedError, openFailedError } from './mux-errors.ts';
import { MuxRole, resolveMuxOptions, type MuxSessionOptions, type OpenRequest, type ResolvedMuxOptions } from './options.ts';
import { Outbox } from './outbox.ts';
import { MuxStream, StreamPhase, type StreamHost } from './stream.ts';
import type { MessageTransport } from './transport.ts';

/** Deadline and cancellation for one open(). */
export interface OpenOptions {
  /** OPEN_OK deadline in ms; default the session's openTimeoutMs. */
  timeoutMs?: number;
  /** Cancels the open: the stream is reset and `opened` rejects with ABORTED. */
  signal?: AbortSignal;
}

/** Counters of one session, for metrics. */
export interface MuxStats {
  streams: number;
  messagesSent: number;
  messagesReceived: number;
  dataBytesSent: number;
  dataBytesReceived: number;
  /** Bytes queued in stream send queues, waiting for credit or the transport. */
  queuedBytes: number;
  rttMs: number | null;
}

/** A stream multiplexer over one MessageTransport (a client session or a handler<->exit link). */
export class MuxSession {
  /** Resolves once the session is closed: with the error that closed it, or undefined. */
  readonly closed: Promise<Error | undefined>;

  private readonly o: ResolvedMuxOptions;
  private readonly options: MuxSessionOptions;
  private readonly transport: MessageTransport;
  private readonly streams = new Map<number, MuxStream>();
  private readonly recvWindow: ReceiveWindow;
  private readonly outbox: Outbox;
  private readonly keepalive: Keepalive;
  private readonly host: StreamHost;
  private nextStreamId = 1;
  private lastPeerStreamId = 0;
  /** The largest window a stream of this session grew to: where new streams start. */
  private grownStreamWindow = 0;
  private localGoAway = false;
  private remoteGoAway: GoAwayFrame | null = null;
  private done = false;
  private closeError: Error | undefined = undefined;
  private closedResolve!: (err: Error | undefined) => void;
  private idleWaiters: Array<() => void> = [];
  private messagesReceived = 0;
  private dataBytesReceived = 0;

  /** Wires the session to `transport` (it takes over onMessage, onDrain and onClose). Throws BAD_CONFIG. */
  constructor(transport: MessageTransport, options: MuxSessionOptions) {
    this.o = resolveMuxOptions(options);
    this.options = options;
    this.transport = transport;
    this.closed = new Promise((resolve) => {
      this.closedResolve = resolve;
    });
    this.recvWindow = new ReceiveWindow(this.o.local.sessionWindow, this.tuning(this.o.maxSessionWindow, this.o.local.sessionWindow, this.o.windowBudget));
    this.outbox = new Outbox(
      transport,
      {
        messageSize: this.o.messageSize,
        peerMaxFrameLength: this.o.remote.maxFrameLength,
        sessionWindow: this.o.remote.sessionWindow,
        paddingPolicy: this.o.paddingPolicy,
        randomInt: this.o.randomInt,
        maxControlQueue: this.o.maxControlQueue,
        sessionHighWater: this.o.sessionHighWater,
      },
      (err) => this.fail(err as CodedError, CloseCode.PROTOCOL_ERROR),
    );
    this.keepalive = new Keepalive(
      this.o.timers,
      this.o.keepaliveIntervalMs,
      this.o.keepaliveTimeoutMs,
      (opaque) => this.outbox.queueControl({ type: FrameType.PING, opaque }),
      () =>
        this.fail(
          closedError(ErrorCode.TIMEOUT, CloseCode.IDLE_TIMEOUT, false, `Peer sent nothing for ${this.o.keepaliveTimeoutMs} ms after a PING`),
          CloseCode.IDLE_TIMEOUT,
        ),
    );
    this.host = this.makeHost();
    transport.onMessage((m) => this.receive(m));
    transport.onDrain(() => this.outbox.drained());
    transport.onClose((code, reason, error) => this.transportClosed(code, reason, error));
    this.keepalive.start();
    // Windows that may grow need the path's RTT: sample it now, while nothing is queued yet.
    // Samples taken later, behind bulk data, run long, and the least one is what counts.
    if (this.o.maxStreamWindow > this.o.local.streamWindow || this.o.maxSessionWindow > this.o.local.sessionWindow) {
      this.keepalive.pathRttMs();
    }
  }

  /** Streams currently open (including those waiting for OPEN_OK or accept()). */
  get streamCount(): number {
    return this.streams.size;
  }

  /** True once the session is closed (by either side, or a failure). */
  get isClosed(): boolean {
    return this.done;
  }

  /** True after either side sent GOAWAY: no new streams on this session. */
  get goingAway(): boolean {
    return this.localGoAway || this.remoteGoAway !== null;
  }

  /** Last measured round-trip time (ms), or null. */
  get rttMs(): number | null {
    return this.keepalive.rttMs;
  }

  /** Bytes the session-level receive window has grown to (the hello's sessionWindow, plus auto-tuning). */
  get receiveWindow(): number {
    return this.recvWindow.size;
  }

  /** Counters for metrics. */
  get stats(): MuxStats {
    return {
      streams: this.streams.size,
      messagesSent: this.outbox.messagesSent,
      messagesReceived: this.messagesReceived,
      dataBytesSent: this.outbox.dataBytesSent,
      dataBytesReceived: this.dataBytesReceived,
      queuedBytes: this.outbox.queuedBytes,
      rttMs: this.keepalive.rttMs,
    };
  }

  /**
   * Opener: sends OPEN and returns the stream at once, so early data can be written before
   * OPEN_OK (docs/protocol.md 3.2); await `stream.opened` for the answer. Throws CLOSED,
   * GOING_AWAY, STREAM_LIMIT (peer's maxStreams reached or ids exhausted), UNSUPPORTED (udp
   * not negotiated, or called on the acceptor) or BAD_CONFIG (a tag on a client session).
   */
  open(request: OpenRequest, options: OpenOptions = {}): MuxStream {
    if (this.done) throw codedError(Error, ErrorCode.CLOSED, 'Session is closed; cannot open a stream');
    if (this.o.role !== MuxRole.OPENER) throw codedError(Error, ErrorCode.UNSUPPORTED, 'Only the opener side opens streams');
    if (this.goingAway) throw codedError(Error, ErrorCode.GOING_AWAY, 'Session is going away; open the stream on another session');
    if (request.network === Network.UDP && (this.o.capabilities & Capability.UDP) === 0) {
      throw codedError(Error, ErrorCode.UNSUPPORTED, 'udp streams need the UDP capability in both hellos');
    }
    if (request.tag !== undefined && request.tag.length > 0 && !this.o.allowTags) {
      throw codedError(RangeError, ErrorCode.BAD_CONFIG, 'OPEN tag is only allowed on links (allowTags)');
    }
    if (this.streams.size >= this.o.remote.maxStreams) {
      throw codedError(RangeError, ErrorCode.STREAM_LIMIT, `Peer accepts at most ${this.o.remote.maxStreams} open streams`);
    }
    if (this.nextStreamId > MAX_STREAM_ID) {
      this.goAway();
      throw codedError(RangeError, ErrorCode.STREAM_LIMIT, 'Stream ids are exhausted; start a new session');
    }
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const stream = new MuxStream(this.host, id, request, true, this.o.remote.streamWindow, this.o.local.streamWindow);
    this.streams.set(id, stream);
    const frame: OpenFrame = { type: FrameType.OPEN, streamId: id, network: request.network, address: request.address };
    if (request.tag !== undefined && request.tag.length > 0) frame.tag = request.tag;
    this.outbox.queueControl(frame);
    stream.startAtHint();
    const timeoutMs = options.timeoutMs ?? this.o.openTimeoutMs;
    stream.openTimer = this.o.timers.setTimeout(
      () => this.cancelOpen(stream, codedError(Error, ErrorCode.TIMEOUT, `Stream ${id} got no OPEN_OK within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const signal = options.signal;
    if (signal !== undefined) {
      const onAbort = (): void =>
        this.cancelOpen(stream, codedError(Error, ErrorCode.ABORTED, `Stream ${id} open was aborted`, signal.reason));
      if (signal.aborted) onAbort();
      else {
        signal.addEventListener('abort', onAbort, { once: true });
        void stream.opened.then(
          () => signal.removeEventListener('abort', onAbort),
          () => signal.removeEventListener('abort', onAbort),
        );
      }
    }
    return stream;
  }

  /** Opener: open() and wait for OPEN_OK; rejects like open() throws, or with OPEN_FAILED, REFUSED, TIMEOUT. */
  async connect(request: OpenRequest, options: OpenOptions = {}): Promise<MuxStream> {
    const stream = this.open(request, options);
    await stream.opened;
    return stream;
  }

  /** Sends a PING; resolves with the RTT in ms. Rejects with TIMEOUT or CLOSED. */
  ping(timeoutMs: number = this.o.keepaliveTimeoutMs): Promise<number> {
    return this.keepalive.ping(timeoutMs);
  }

  /**
   * Sends GOAWAY once: no new streams on this session, existing ones continue (draining).
   * The acceptor names the last stream it processed; the opener sends 0 (docs/protocol.md 3.4).
   */
  goAway(code: CloseCodeValue = CloseCode.NO_ERROR): void {
    if (this.done || this.localGoAway) return;
    this.localGoAway = true;
    const lastStreamId = this.o.role === MuxRole.ACCEPTOR ? this.lastPeerStreamId : 0;
    this.outbox.queueControl({ type: FrameType.GOAWAY, lastStreamId, code });
  }

  /** Resolves when no stream is open (at once if none is), or when the session closes. */
  whenIdle(): Promise<void> {
    if (this.streams.size === 0 || this.done) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Graceful shutdown: GOAWAY, wait until the streams finish (at most `timeoutMs`), then close. */
  async drain(timeoutMs: number): Promise<void> {
    this.goAway();
    let timer: unknown;
    await Promise.race([
      this.whenIdle(),
      new Promise<void>((resolve) => {
        timer = this.o.timers.setTimeout(resolve, timeoutMs);
      }),
    ]);
    this.o.timers.clearTimeout(timer);
    this.close();
  }

  /**
   * Closes now: GOAWAY(code) goes out ahead of the transport close, every open stream fails
   * with CLOSED. `error`, when given, is what onClose and `closed` report.
   */
  close(code: CloseCodeValue = CloseCode.NO_ERROR, error?: Error): void {
    if (this.done) return;
    const lastStreamId = this.o.role === MuxRole.ACCEPTOR ? this.lastPeerStreamId : 0;
    this.outbox.flushFinal([{ type: FrameType.GOAWAY, lastStreamId, code }]);
    this.shutdown(error);
    this.transport.close();
  }

  // ---- inbound ----

  private receive(message: Uint8Array): void {
    if (this.done) return;
    this.messagesReceived++;
    this.keepalive.received();
    let frames: Frame[];
    try {
      frames = decodeFrames(message, this.o.local.maxFrameLength);
    } catch (err) {
      this.fail(err as CodedError, CloseCode.PROTOCOL_ERROR);
      return;
    }
    try {
      for (const f of frames) {
        this.dispatch(f);
        if (this.done) return;
      }
    } catch (err) {
      // A bug of ours (or of an app callback) must not escape into the socket callback.
      this.fail(codedError(Error, ErrorCode.PROTOCOL, 'Internal error while handling a frame', err), CloseCode.INTERNAL_ERROR);
    }
  }

  private dispatch(f: Frame): void {
    switch (f.type) {
      case FrameType.DATA: {
        const n = f.payload.byteLength;
        if (!this.recvWindow.receive(n)) {
          this.violation(ErrorCode.FLOW_CONTROL, CloseCode.FLOW_CONTROL_ERROR, `DATA of ${n} bytes beyond the session credit`);
          return;
        }
        this.dataBytesReceived += n;
        const s = this.lookup(f.streamId);
        if (s === undefined) return;
        if (s === null || (s.isOpener && s.phase === StreamPhase.OPENING)) {
          this.releaseSessionCredit(n, false);
          if (s === null) this.outbox.queueControl({ type: FrameType.RESET, streamId: f.streamId, code: CloseCode.STREAM_CLOSED });
          else s.violate(CloseCode.PROTOCOL_ERROR, ErrorCode.PROTOCOL, 'DATA before OPEN_OK');
          return;
        }
        s.handleData(f.payload);
        return;
      }
      case FrameType.OPEN:
        this.handleOpen(f);
        return;
      case FrameType.OPEN_OK:
      case FrameType.OPEN_FAIL: {
        if (this.o.role !== MuxRole.OPENER) {
          this.violation(ErrorCode.PROTOCOL, CloseCode.PROTOCOL_ERROR, 'The opener sent an OPEN answer');
          return;
        }
        const s = this.lookup(f.streamId);
        if (s === undefined || s === null) return; // we cancelled it already; our RESET tells the peer
        if (s.phase !== StreamPhase.OPENING) {
          s.violate(CloseCode.PROTOCOL_ERROR, ErrorCode.PROTOCOL, 'a second OPEN answer');
          return;
        }
        this.o.timers.clearTimeout(s.openTimer);
        if (f.type === FrameType.OPEN_OK) s.handleOpenOk();
        else s.terminate(openFailedError(f.reason, true));
        return;
      }
      case FrameType.WINDOW: {
        if (f.streamId === 0) {
          if (!this.outbox.grantSession(f.increment)) {
            this.violation(ErrorCode.FLOW_CONTROL, CloseCode.FLOW_CONTROL_ERROR, 'WINDOW overflowed the session credit');
          }
          return;
        }
        const s = this.lookup(f.streamId);
        if (s === undefined || s === null) return;
        if (this.beforeAnswer(s, 'WINDOW')) return;
        s.handleWindow(f.increment);
        return;
      }
      case FrameType.FIN: {
        const s = this.lookup(f.streamId);
        if (s === undefined || s === null) return;
        if (this.beforeAnswer(s, 'FIN')) return;
        s.handleFin();
        return;
      }
      case FrameType.RESET: {
        const s = this.lookup(f.streamId);
        if (s === undefined || s === null) return;
        s.terminate(closedError(ErrorCode.STREAM_RESET, f.code, true, `Stream ${s.id} was reset by the peer with code ${f.code}`));
        return;
      }
      case FrameType.DATAGRAM: {
        const s = this.lookup(f.streamId);
        if (s === undefined || s === null) return;
        s.handleDatagram(f.address, f.payload);
        return;
      }
      case FrameType.PING:
        this.outbox.queueControl({ type: FrameType.PONG, opaque: f.opaque });
        return;
      case FrameType.PONG:
        this.keepalive.pong(f.opaque);
        return;
      case FrameType.GOAWAY:
        this.handleGoAway(f);
        return;
      case FrameType.PADDING:
        return;
    }
  }

  /**
   * The stream for `id`: the stream, null when it existed and is closed, or undefined after
   * failing the session because no such stream was ever opened (docs/protocol.md 3.1).
   */
  private lookup(id: number): MuxStream | null | undefined {
    const s = this.streams.get(id);
    if (s !== undefined) return s;
    const seen = id % 2 === 1 && (this.o.role === MuxRole.OPENER ? id < this.nextStreamId : id <= this.lastPeerStreamId);
    if (seen) return null;
    this.violation(ErrorCode.PROTOCOL, CloseCode.PROTOCOL_ERROR, `Frame for stream ${id}, which was never opened`);
    return undefined;
  }

  /** The acceptor sends nothing on a stream before its OPEN answer (docs/protocol.md 3.2). */
  private beforeAnswer(s: MuxStream, what: string): boolean {
    if (!s.isOpener || s.phase !== StreamPhase.OPENING) return false;
    s.violate(CloseCode.PROTOCOL_ERROR, ErrorCode.PROTOCOL, `${what} before OPEN_OK`);
    return true;
  }

  private handleOpen(f: OpenFrame): void {
    if (this.o.role !== MuxRole.ACCEPTOR) {
      this.violation(ErrorCode.PROTOCOL, CloseCode.PROTOCOL_ERROR, 'The acceptor sent OPEN');
      return;
    }
    const id = f.streamId;
    if (id % 2 === 0 || id <= this.lastPeerStreamId) {
      this.violation(ErrorCode.PROTOCOL, CloseCode.PROTOCOL_ERROR, `OPEN for stream ${id}, which is not a new odd id`);
      return;
    }
    this.lastPeerStreamId = id;
    if (f.tag !== undefined && !this.o.allowTags) {
      this.violation(ErrorCode.PROTOCOL, CloseCode.PROTOCOL_ERROR, 'OPEN carries a tag on a client session');
      return;
    }
    // After our GOAWAY, newer streams count as never seen; the opener retries them elsewhere.
    if (this.localGoAway) return;
    const fail = (reason: (typeof OpenFailReason)[keyof typeof OpenFailReason]): void =>
      this.outbox.queueControl({ type: FrameType.OPEN_FAIL, streamId: id, reason });
    if (f.network === Network.UDP && (this.o.capabilities & Capability.UDP) === 0) return fail(OpenFailReason.NETWORK_NOT_SUPPORTED);
    if (this.streams.size >= this.o.local.maxStreams) return fail(OpenFailReason.STREAM_LIMIT);
    const onOpen = this.options.onOpen;
    if (onOpen === undefined) return fail(OpenFailReason.GENERAL_FAILURE);
    const request: OpenRequest = { network: f.network, address: f.address };
    // The tag is a view of the inbound message; copy it so the app may keep it.
    if (f.tag !== undefined) request.tag = f.tag.slice();
    const stream = new MuxStream(this.host, id, request, false, this.o.remote.streamWindow, this.o.local.streamWindow);
    this.streams.set(id, stream);
    stream.openTimer = this.o.timers.setTimeout(() => stream.reject(OpenFailReason.TIMEOUT), this.o.openTimeoutMs);
    try {
      onOpen(stream, request);
    } catch {
      stream.reject(OpenFailReason.GENERAL_FAILURE);
    }
  }

  private handleGoAway(f: GoAwayFrame): void {
    this.remoteGoAway = f;
    if (this.o.role === MuxRole.OPENER) {
      for (const s of [...this.streams.values()]) {
        if (s.id > f.lastStreamId && s.phase === StreamPhase.OPENING) {
          this.o.timers.clearTimeout(s.openTimer);
          s.terminate(closedError(ErrorCode.REFUSED, CloseCode.REFUSED, true, `Stream ${s.id} was not processed before GOAWAY; retry elsewhere`));
        }
      }
    }
    this.options.onGoAway?.(f.code, f.lastStreamId);
  }

  // ---- lifecycle ----

  private cancelOpen(stream: MuxStream, err: Error): void {
    if (stream.phase !== StreamPhase.OPENING) return;
    this.outbox.queueControl({ type: FrameType.RESET, streamId: stream.id, code: CloseCode.CANCEL });
    stream.terminate(err);
  }

  private releaseSessionCredit(n: number, consumed: boolean): void {
    if (this.done) return;
    const grant = consumed ? this.recvWindow.consume(n) : this.recvWindow.discard(n);
    if (grant > 0) this.outbox.queueControl({ type: FrameType.WINDOW, streamId: 0, increment: grant });
  }

  /** A stream window grew: keep the session window at 1.5 times it, so the session does not cap that stream. */
  private followStreamWindow(size: number): void {
    if (this.done) return;
    this.grownStreamWindow = Math.max(this.grownStreamWindow, size);
    const extra = this.recvWindow.ensureAtLeast(Math.floor(1.5 * size));
    if (extra > 0) this.outbox.queueControl({ type: FrameType.WINDOW, streamId: 0, increment: extra });
  }

  /**
   * How a receive window of `initial` bytes may grow up to `max` (null when it may not),
   * charging `budget` (the session window) or nothing (stream windows: the session window
   * already bounds their bytes).
   */
  private tuning(max: number, initial: number, budget: WindowBudget | null): WindowTuning | null {
    if (max <= initial) return null;
    const timers = this.o.timers;
    return {
      maxSize: max,
      budget,
      now: () => timers.now(),
      rttMs: () => this.keepalive.pathRttMs(),
    };
  }

  /** The peer broke a session rule: GOAWAY with `closeCode`, then close. */
  private violation(code: typeof ErrorCode.PROTOCOL | typeof ErrorCode.FLOW_CONTROL, closeCode: CloseCodeValue, what: string): void {
    this.fail(closedError(code, closeCode, false, `Session closed: ${what}`), closeCode);
  }

  private fail(err: CodedError, closeCode: CloseCodeValue): void {
    if (this.done) return;
    if (closeCode === CloseCode.IDLE_TIMEOUT && this.transport.terminate !== undefined) {
      // A dead peer will not answer a closing handshake: drop the connection instead.
      this.outbox.kill();
      this.shutdown(err);
      this.transport.terminate();
      return;
    }
    this.close(closeCode, err);
  }

  private transportClosed(code: number, reason: string, error?: Error): void {
    if (this.done) return;
    const clean = this.remoteGoAway !== null && this.remoteGoAway.code === CloseCode.NO_ERROR && this.streams.size === 0;
    this.outbox.kill();
    this.shutdown(
      clean
        ? undefined
        : closedError(ErrorCode.CLOSED, CloseCode.CONNECTION_RESET, true, `Transport closed (${code}${reason ? ` ${reason}` : ''})`, error),
    );
  }

  private shutdown(error: Error | undefined): void {
    this.done = true;
    this.closeError = error;
    const streamErr = closedError(ErrorCode.CLOSED, CloseCode.CONNECTION_RESET, false, 'Session closed', error);
    this.keepalive.stop(streamErr);
    for (const s of [...this.streams.values()]) s.terminate(streamErr);
    this.streams.clear();
    this.recvWindow.release();
    this.wakeIdle();
    this.closedResolve(error);
    try {
      this.options.onClose?.(error);
    } catch {
      // The app's close handler failing must not disturb the transport callback that led here.
    }
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private makeHost(): StreamHost {
    const o = this.o;
    const outbox = this.outbox;
    return {
      streamHighWater: o.streamHighWater,
      maxStreamQueue: o.maxStreamQueue,
      sessionBelowHighWater: () => outbox.queuedBytes <= o.sessionHighWater,
      queueControl: (frame) => outbox.queueControl(frame),
      queueDatagram: (frame) => outbox.queueDatagram(frame),
      wantsToSend: (stream) => outbox.wantsToSend(stream),
      writeBlocked: (stream) => outbox.writeBlockedOn(stream),
      queuedDelta: (n) => outbox.adjustQueued(n),
      releaseSessionCredit: (n, consumed) => this.releaseSessionCredit(n, consumed),
      streamClosed: (stream) => {
        o.timers.clearTimeout(stream.openTimer);
        if (this.streams.get(stream.id) === stream) this.streams.delete(stream.id);
        if (this.streams.size === 0) this.wakeIdle();
      },
      streamAnswered: (stream) => o.timers.clearTimeout(stream.openTimer),
      streamTuning: this.tuning(o.maxStreamWindow, o.local.streamWindow, null),
      streamWindowGrew: (size) => this.followStreamWindow(size),
      streamWindowHint: () => this.grownStreamWindow,
    };
  }

  /** The error that closed the session, if any (undefined while open or after a clean close). */
  get error(): Error | undefined {
    return this.closeError;
  }
}

/**
 * One established link to an exit: a MuxSession on which the handler is the stream opener
 * (docs/protocol.md 3.1), whoever dialed the WebSocket. The pool owns heartbeats, so the mux's
 * own keepalive is off; a link the exit sent GOAWAY on takes no new streams and is closed by
 * the exit once its streams end.
 */
import type { ChannelEstablished } from '../../shared/channel/handshake.ts';
import { muxOptionsFromHellos } from '../../shared/mux/hellos.ts';
import { MuxSession } from '../../shared/mux/session.ts';
import type { OpenRequest, WindowGrowth } from '../../shared/mux/options.ts';
import type { MuxStream } from '../../shared/mux/stream.ts';
import type { Hello } from '../../shared/protocol/hello.ts';

/** Who dialed the WebSocket. */
export type LinkDirection = 'dial' | 'reverse';

/** Options of an ExitLink. */
export interface ExitLinkOptions {
  /** Most streams this handler puts on the link (links.maxStreamsPerLink). */
  maxStreams: number;
  /** OPEN_OK deadline on the link (ms); default the mux default. */
  openTimeoutMs?: number;
  /** Called when the exit sends GOAWAY (draining or shutting down). */
  onGoAway?: () => void;
  /** Window auto-tuning (shared budget); default the mux defaults. */
  windows?: WindowGrowth;
}

let nextLinkSerial = 1;

/** A live link to one exit. */
export class ExitLink {
  readonly exitId: string;
  readonly direction: LinkDirection;
  readonly session: MuxSession;
  /** The exit's hello (its region, limits, capabilities). */
  readonly remoteHello: Hello;
  /** Resolves when the link is gone (never rejects). */
  readonly closed: Promise<void>;
  /** A process-unique number for logs. */
  readonly serial = nextLinkSerial++;
  /** Heartbeats missed in a row. */
  missed = 0;
  /** True while a heartbeat is in flight. */
  pinging = false;

  readonly #est: ChannelEstablished;
  readonly #cap: number;

  constructor(est: ChannelEstablished, exitId: string, direction: LinkDirection, options: ExitLinkOptions) {
    this.#est = est;
    this.exitId = exitId;
    this.direction = direction;
    this.remoteHello = est.remoteHello;
    this.#cap = Math.min(options.maxStreams, est.remoteHello.maxStreams);
    this.session = new MuxSession(est.channel, {
      role: 'opener',
      ...muxOptionsFromHellos(est.localHello, est.remoteHello),
      allowTags: true,
      keepaliveIntervalMs: 0,
      ...options.windows,
      ...(options.openTimeoutMs === undefined ? {} : { openTimeoutMs: options.openTimeoutMs }),
      ...(options.onGoAway === undefined ? {} : { onGoAway: () => options.onGoAway?.() }),
    });
    this.closed = this.session.closed.then(() => undefined);
  }

  /** True when a new stream may go on this link now. */
  get usable(): boolean {
    return !this.session.isClosed && !this.session.goingAway && this.session.streamCount < this.#cap;
  }

  /** True while the link is open and not going away (it may be full). */
  get alive(): boolean {
    return !this.session.isClosed && !this.session.goingAway;
  }

  /** Streams open on the link. */
  get load(): number {
    return this.session.streamCount;
  }

  /** Remote address of the link's socket (for logs). */
  get remoteAddress(): string {
    return this.#est.channel.ws.remoteAddress;
  }

  /** Sends OPEN; throws like MuxSession.open (CLOSED, GOING_AWAY, STREAM_LIMIT, UNSUPPORTED). */
  open(request: OpenRequest): MuxStream {
    return this.session.open(request);
  }

  /** Closes at once: streams on it fail, the exit sees GOAWAY then the WebSocket close. */
  close(): void {
    this.session.close();
  }

  /** No new streams; close once the open ones finish or `timeoutMs` passes. */
  drain(timeoutMs: number): Promise<void> {
    return this.session.drain(timeoutMs);
  }

  /** Drops the socket without a closing handshake (a dead exit will not answer one). */
  terminate(): void {
    this.session.close();
    this.#est.channel.terminate();
  }
}

/**
 * The exit's live handler links, whichever side dialled: each established Noise KK channel
 * becomes a MuxSession in the acceptor role (the handler opens streams, docs/protocol.md 3.1),
 * whose OPENs go to the egress service. /ready and the links gauge read this set.
 */
import type { ChannelEstablished } from '../../shared/channel/handshake.ts';
import type { Logger } from '../../shared/log.ts';
import type { ExitMetrics } from '../../shared/metrics/catalog.ts';
import { muxOptionsFromHellos } from '../../shared/mux/hellos.ts';
import { MuxRole, type OpenRequest, type WindowGrowth } from '../../shared/mux/options.ts';
import { MuxSession } from '../../shared/mux/session.ts';
import type { MuxStream } from '../../shared/mux/stream.ts';
import type { EgressService } from '../egress/service.ts';

/** Who dialled the link's WebSocket. */
export type LinkMode = 'dial' | 'reverse';

/** One live link. */
export interface Link {
  /** Process-local id, the `session` field of its log lines. */
  readonly id: string;
  readonly mode: LinkMode;
  /** The handler's node id from its hello. */
  readonly handler: string;
  readonly session: MuxSession;
}

/** Settings every link session shares. */
export interface LinkSetOptions {
  egress: EgressService;
  metrics: ExitMetrics;
  logger: Logger;
  /**
   * How long the handler may wait for our OPEN answer: our connect budget plus a margin, so
   * our own TIMEOUT answer (with its reason) always beats the mux's generic one.
   */
  openTimeoutMs: number;
  /** Keepalive of link sessions (0 disables; default the mux's 15 s / 10 s). */
  keepaliveIntervalMs?: number;
  keepaliveTimeoutMs?: number;
  /** Window auto-tuning of link sessions (shared budget); default the mux defaults. */
  windows?: WindowGrowth;
}

/** The set of live links. */
export class LinkSet {
  readonly #o: LinkSetOptions;
  readonly #links = new Set<Link>();
  #seq = 0;
  #closing = false;

  constructor(options: LinkSetOptions) {
    this.#o = options;
  }

  /** Links up right now. */
  get size(): number {
    return this.#links.size;
  }

  /** True once drain() or closeAll() began: new channels are dropped. */
  get closing(): boolean {
    return this.#closing;
  }

  /** A snapshot of the live links. */
  list(): Link[] {
    return [...this.#links];
  }

  /**
   * Runs a mux session on an established channel. Resolves when the link is down; returns
   * null (and closes the channel) when the exit is shutting down.
   */
  attach(est: ChannelEstablished, mode: LinkMode, remote: string): Promise<Error | undefined> | null {
    if (this.#closing) {
      est.channel.close();
      return null;
    }
    const id = `${mode}-${++this.#seq}`;
    const handler = est.remoteHello.nodeId;
    const log = this.#o.logger.child({ session: id });
    const options = {
      role: MuxRole.ACCEPTOR,
      allowTags: true,
      ...muxOptionsFromHellos(est.localHello, est.remoteHello),
      openTimeoutMs: this.#o.openTimeoutMs,
      ...this.#o.windows,
      onOpen: (stream: MuxStream, request: OpenRequest) => this.#o.egress.handleOpen(stream, request, log),
      ...(this.#o.keepaliveIntervalMs === undefined ? {} : { keepaliveIntervalMs: this.#o.keepaliveIntervalMs }),
      ...(this.#o.keepaliveTimeoutMs === undefined ? {} : { keepaliveTimeoutMs: this.#o.keepaliveTimeoutMs }),
    };
    const session = new MuxSession(est.channel, options);
    const link: Link = { id, mode, handler, session };
    this.#links.add(link);
    this.#o.metrics.linksActive.set(this.#links.size);
    log.info({ mode, handler, remote, skewMs: est.clockSkewMs }, 'link up');
    return session.closed.then((error) => {
      this.#links.delete(link);
      this.#o.metrics.linksActive.set(this.#links.size);
      log.info({ mode, handler, reason: error?.message ?? 'closed' }, 'link down');
      return error;
    });
  }

  /**
   * Graceful stop: GOAWAY on every link (the handler opens nothing new here), wait up to
   * `timeoutMs` for their streams to finish, then close them.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.#closing = true;
    await Promise.all([...this.#links].map((l) => l.session.drain(timeoutMs)));
  }
}

/**
 * The raft peer transport (ARCHITECTURE 4): WebSockets between handlers, authenticated with
 * the cluster key (handshake.ts), carrying batches of raft messages in a compact binary codec
 * (codec.ts) cut into Noise-sized fragments (frames.ts). One outbound PeerLink per peer sends;
 * inbound links, accepted on our listener, receive.
 */
import { absorbThenClose } from '../../../shared/channel/handshake.ts';
import { ReplayGuard } from '../../../shared/crypto/replay-guard.ts';
import type { StaticKey } from '../../../shared/crypto/static-key.ts';
import { serve, type HttpServer } from '../../../shared/runtime/http-server.ts';
import type { ServerTlsOptions } from '../../../shared/runtime/tls.ts';
import { dialWebSocket } from '../../../shared/runtime/ws-client.ts';
import type { WsConnection } from '../../../shared/runtime/websocket.ts';
import type { Message, NodeId } from '../types.ts';
import { decodeBatch } from './codec.ts';
import { FrameAssembler, PayloadKind } from './frames.ts';
import { acceptRaftLink } from './handshake.ts';
import { emptyTransportStats, resolveTransportLimits, type TransportLimits, type TransportStats } from './limits.ts';
import { errorFields, silentLogger, type RaftLogger } from './logger.ts';
import { PeerLink, type RaftDialer } from './peer-link.ts';

/** Options of a RaftTransport. */
export interface RaftTransportOptions {
  /** This node's id (sent in the hello; inbound messages must be addressed to it). */
  nodeId: NodeId;
  /** The cluster key: both Noise static keys of every raft link. */
  staticKey: StaticKey;
  /** The URL of a peer's raft listener, or undefined while unknown. */
  resolve: (id: NodeId) => string | undefined;
  /** Receives each decoded batch (already checked: from the link's peer, addressed to us). */
  onMessages: (messages: Message[], from: NodeId) => void;
  /**
   * Receives messages dropped unsent (full queue, link down): they certainly never reached the
   * peer, which lets the driver re-route a forwarded proposal instead of waiting for its timeout.
   */
  onDropped?: (messages: Message[]) => void;
  /** Receives control payloads (PayloadKind.ControlRequest / ControlResponse). */
  onPayload?: (kind: PayloadKind, body: Uint8Array, from: NodeId) => void;
  logger?: RaftLogger;
  limits?: Partial<TransportLimits>;
  /** WebSocket dialer (default shared/runtime dialWebSocket). */
  dial?: RaftDialer;
  /** Replay cache of inbound handshakes (default: a fresh one). */
  replayGuard?: ReplayGuard;
}

/** Where to listen for peers. */
export interface RaftListenOptions {
  hostname: string;
  /** 0 picks a free port. */
  port: number;
  /** Only upgrades on this path are raft links (default: any path). */
  path?: string;
  tls?: ServerTlsOptions;
}

/** Sends raft messages to peers and delivers theirs. */
export class RaftTransport {
  readonly nodeId: NodeId;
  readonly limits: TransportLimits;
  readonly #opts: RaftTransportOptions;
  readonly #stats = emptyTransportStats();
  readonly #links = new Map<NodeId, PeerLink>();
  readonly #inbound = new Set<WsConnection>();
  readonly #logger: RaftLogger;
  readonly #replay: ReplayGuard;
  readonly #dial: RaftDialer;
  #server: HttpServer | null = null;
  #closed = false;

  constructor(options: RaftTransportOptions) {
    this.nodeId = options.nodeId;
    this.limits = resolveTransportLimits(options.limits);
    this.#opts = options;
    this.#logger = options.logger ?? silentLogger;
    this.#replay = options.replayGuard ?? new ReplayGuard();
    this.#dial = options.dial ?? dialWebSocket;
  }

  /** A copy of the counters. */
  stats(): TransportStats {
    return { ...this.#stats };
  }

  /** The listener's address once listen() resolved. */
  get address(): { address: string; port: number } | null {
    return this.#server === null ? null : { address: this.#server.address, port: this.#server.port };
  }

  /** Queues messages for their peers (each to its `to`); never blocks, drops when a queue is full. */
  send(messages: readonly Message[]): void {
    if (this.#closed) return;
    for (const m of messages) {
      if (m.to === this.nodeId || m.to === '') continue;
      this.#link(m.to).send(m);
    }
  }

  /** Sends a control payload to one peer. */
  sendPayload(to: NodeId, kind: PayloadKind, body: Uint8Array): void {
    if (this.#closed || to === this.nodeId) return;
    this.#link(to).sendPayload(kind, body);
  }

  /** A member's URL changed: its link reconnects to the new one. */
  peerChanged(id: NodeId): void {
    this.#links.get(id)?.urlChanged();
  }

  /** A member left: close its link and forget queued messages. */
  removePeer(id: NodeId): void {
    const link = this.#links.get(id);
    if (link === undefined) return;
    link.close();
    this.#links.delete(id);
  }

  /** True when the outbound link to `id` is open. */
  linkOpen(id: NodeId): boolean {
    return this.#links.get(id)?.state === 'open';
  }

  /** Link states by peer, for status pages. */
  links(): Array<{ peer: NodeId; state: string; queued: number }> {
    return [...this.#links.values()].map((l) => ({ peer: l.peer, state: l.state, queued: l.queued }));
  }

  /** Starts our own listener for inbound links. */
  async listen(o: RaftListenOptions): Promise<{ address: string; port: number }> {
    if (this.#server !== null) throw new Error('Raft transport is already listening');
    this.#server = await serve({
      hostname: o.hostname,
      port: o.port,
      ...(o.tls === undefined ? {} : { tls: o.tls }),
      // Fragments are at most one Noise message; anything bigger is not ours.
      maxPayload: 65_536,
      highWaterMark: this.limits.highWaterMark,
      fetch: () => new Response('Not Found', { status: 404 }),
      websocket: {
        ...(o.path === undefined ? {} : { path: o.path }),
        onOpen: (ws) => this.accept(ws),
      },
      onError: (err) => this.#logger.warn(errorFields(err), 'Raft listener error'),
    });
    return { address: this.#server.address, port: this.#server.port };
  }

  /** Takes an upgraded WebSocket (from our listener or a shared one) and runs the responder. */
  accept(ws: WsConnection): void {
    if (this.#closed) {
      ws.terminate();
      return;
    }
    this.#inbound.add(ws);
    ws.onClose(() => this.#inbound.delete(ws));
    void acceptRaftLink(ws, {
      staticKey: this.#opts.staticKey,
      nodeId: this.nodeId,
      replayGuard: this.#replay,
      timeoutMs: this.limits.handshakeTimeoutMs,
    }).then((outcome) => {
      if (!outcome.ok) {
        this.#stats.handshakesRefused++;
        this.#logger.debug({ remote: ws.remoteAddress, reason: outcome.reason }, 'Raft link handshake refused');
        void absorbThenClose(ws, this.limits.absorbMs).then(() => this.#inbound.delete(ws));
        return;
      }
      if (this.#closed) {
        outcome.channel.terminate();
        return;
      }
      const peer = outcome.auth;
      const ch = outcome.channel;
      this.#stats.inboundAccepted++;
      this.#stats.inboundOpen++;
      const assembler = new FrameAssembler(this.limits.maxPayloadBytes);
      ch.onClose(() => {
        this.#stats.inboundOpen--;
        this.#inbound.delete(ws);
      });
      ch.onMessage((fragment) => {
        this.#stats.bytesReceived += fragment.length;
        const r = assembler.push(fragment);
        if (r.kind === 'partial') return;
        if (r.kind === 'error') {
          this.#badPayload(peer, r.error, ch);
          return;
        }
        this.#dispatch(peer, r.payloadKind, r.body, ch);
      });
    });
  }

  #dispatch(peer: NodeId, kind: number, body: Uint8Array, ch: { terminate(): void }): void {
    if (kind === PayloadKind.Batch) {
      let messages: Message[];
      try {
        messages = decodeBatch(body);
      } catch (err) {
        this.#badPayload(peer, err, ch);
        return;
      }
      let ok = 0;
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i]!;
        if (m.from !== peer || m.to !== this.nodeId) {
          this.#stats.misaddressed++;
          continue;
        }
        if (ok !== i) messages[ok] = m;
        ok++;
      }
      messages.length = ok;
      this.#stats.messagesReceived += ok;
      if (ok > 0) this.#opts.onMessages(messages, peer);
      return;
    }
    if (kind === PayloadKind.ControlRequest || kind === PayloadKind.ControlResponse) {
      this.#opts.onPayload?.(kind, body, peer);
      return;
    }
    this.#badPayload(peer, new Error(`unknown payload kind ${kind}`), ch);
  }

  #badPayload(peer: NodeId, err: unknown, ch: { terminate(): void }): void {
    this.#stats.badPayloads++;
    this.#logger.warn({ peer, ...errorFields(err) }, 'Raft link sent a bad payload; dropping the link');
    ch.terminate();
  }

  #link(id: NodeId): PeerLink {
    let link = this.#links.get(id);
    if (link === undefined) {
      link = new PeerLink(id, {
        nodeId: this.nodeId,
        staticKey: this.#opts.staticKey,
        limits: this.limits,
        stats: this.#stats,
        logger: this.#logger,
        dial: this.#dial,
        url: this.#opts.resolve,
        dropped: (ms) => this.#opts.onDropped?.(ms),
      });
      this.#links.set(id, link);
    }
    return link;
  }

  /** Closes every link and the listener. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const link of this.#links.values()) link.close();
    this.#links.clear();
    for (const ws of this.#inbound) ws.terminate();
    this.#inbound.clear();
    await this.#server?.close({ graceMs: 200 });
    this.#server = null;
  }
}

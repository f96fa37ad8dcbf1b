/**
 * The exit's answer to every OPEN on every link: tcp streams are resolved, policy-checked and
 * dialled (connect.ts) and then bridged (tcp-bridge.ts); udp streams become associations
 * (udp-relay.ts). Keeps the live set for metrics, /ready-independent stats and the idle sweep.
 */
import type { Logger } from '../../shared/log.ts';
import type { ExitMetrics } from '../../shared/metrics/catalog.ts';
import { StreamPhase, type MuxStream } from '../../shared/mux/stream.ts';
import type { OpenRequest } from '../../shared/mux/options.ts';
import { CloseCode, OpenFailReason } from '../../shared/protocol/codes.ts';
import { Network } from '../../shared/protocol/constants.ts';
import { toHex } from '../../shared/protocol/bytes.ts';
import { connectEgress, type EgressSettings } from './connect.ts';
import type { EgressFailure } from './failure.ts';
import { TcpBridge, type Direction } from './tcp-bridge.ts';
import { UdpRelay, type UdpBinder } from './udp-relay.ts';

/** What the service needs; built by exit/main.ts from ExitConfig. */
export interface EgressServiceOptions {
  settings: EgressSettings;
  /** An egress TCP connection without a byte either way for this long is reset (limits.idleTimeout). */
  idleTimeoutMs: number;
  udp: { enabled: boolean; idleTimeoutMs: number };
  metrics: ExitMetrics;
  logger: Logger;
  /** Monotonic ms clock (default performance.now). */
  now?: () => number;
  bindUdp?: UdpBinder;
}

/** A snapshot of the exit's egress state. */
export interface EgressStats {
  /** TCP streams bridged right now. */
  streams: number;
  /** OPENs still resolving or connecting. */
  connecting: number;
  udpFlows: number;
  /** Sum of toTarget + toLink + unread over all bridges: what the exit holds for its streams. */
  bufferedBytes: number;
  toTarget: number;
  toLink: number;
  unread: number;
  /** The largest bufferedBytes of any single bridge. */
  maxStreamBuffered: number;
  bytesUp: number;
  bytesDown: number;
  opened: number;
  failed: number;
}

type Label = { direction: Direction };

/** Serves OPENs from links. */
export class EgressService {
  readonly #o: EgressServiceOptions;
  readonly #now: () => number;
  readonly #bridges = new Set<TcpBridge>();
  readonly #relays = new Set<UdpRelay>();
  readonly #pending = new Set<AbortController>();
  readonly #bytes: Record<Direction, { inc(value?: number): void }>;
  #bytesUp = 0;
  #bytesDown = 0;
  #opened = 0;
  #failed = 0;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(options: EgressServiceOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => performance.now());
    const bytes = options.metrics.bytes;
    this.#bytes = { up: bytes.labels({ direction: 'up' } satisfies Label), down: bytes.labels({ direction: 'down' } satisfies Label) };
    // A quarter of the shortest idle timeout keeps expiry within 25% of the configured value.
    const period = Math.min(15_000, Math.max(250, Math.floor(Math.min(options.idleTimeoutMs, options.udp.idleTimeoutMs) / 4)));
    this.#sweeper = setInterval(() => this.sweep(), period);
  }

  /** The link's onOpen: answers the stream (OPEN_OK after connecting, or OPEN_FAIL). */
  handleOpen(stream: MuxStream, request: OpenRequest, log: Logger): void {
    const slog = log.child({ stream: stream.id });
    if (this.#closed) {
      stream.reject(OpenFailReason.EXIT_UNAVAILABLE);
      return;
    }
    if (request.tag !== undefined && slog.isLevelEnabled('debug')) slog.debug({ tag: toHex(request.tag) }, 'open tag');
    if (request.network === Network.UDP) this.#openUdp(stream, slog);
    else this.#openTcp(stream, request, slog);
  }

  /** Current counts and buffered bytes. */
  stats(): EgressStats {
    let toTarget = 0;
    let toLink = 0;
    let unread = 0;
    let maxStreamBuffered = 0;
    for (const b of this.#bridges) {
      const x = b.buffers;
      toTarget += x.toTarget;
      toLink += x.toLink;
      unread += x.unread;
      maxStreamBuffered = Math.max(maxStreamBuffered, x.toTarget + x.toLink + x.unread);
    }
    return {
      streams: this.#bridges.size,
      connecting: this.#pending.size,
      udpFlows: this.#relays.size,
      bufferedBytes: toTarget + toLink + unread,
      toTarget,
      toLink,
      unread,
      maxStreamBuffered,
      bytesUp: this.#bytesUp,
      bytesDown: this.#bytesDown,
      opened: this.#opened,
      failed: this.#failed,
    };
  }

  /** Resets streams and flows idle past their timeouts (runs on a timer; public for tests). */
  sweep(): void {
    const now = this.#now();
    for (const b of this.#bridges) if (now - b.lastActivity > this.#o.idleTimeoutMs) b.abort(CloseCode.IDLE_TIMEOUT);
    for (const r of this.#relays) if (now - r.lastActivity > this.#o.udp.idleTimeoutMs) r.abort(CloseCode.IDLE_TIMEOUT);
  }

  /** Stops the sweeper, cancels pending connects and aborts every stream and flow. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
    for (const p of this.#pending) p.abort();
    for (const b of this.#bridges) b.abort(CloseCode.UPSTREAM_LOST);
    for (const r of this.#relays) r.abort(CloseCode.UPSTREAM_LOST);
  }

  #count(direction: Direction, n: number): void {
    this.#bytes[direction].inc(n);
    if (direction === 'up') this.#bytesUp += n;
    else this.#bytesDown += n;
  }

  /** Counts a failed open and answers it with OPEN_FAIL if the stream still waits for an answer. */
  #fail(stream: MuxStream, failure: EgressFailure, log: Logger): void {
    this.#failed++;
    this.#o.metrics.openFailures.inc({ reason: failure.label });
    if (log.isLevelEnabled('debug')) log.debug({ reason: failure.reason, label: failure.label, detail: failure.detail }, 'open failed');
    if (stream.phase === StreamPhase.PENDING) stream.reject(failure.reason);
  }

  #openTcp(stream: MuxStream, request: OpenRequest, log: Logger): void {
    const cancel = new AbortController();
    this.#pending.add(cancel);
    // A RESET from the handler (or the link going away) before we answer cancels the dial.
    void stream.closed.then(() => cancel.abort());
    const started = this.#now();
    void connectEgress(request.address, this.#o.settings, cancel.signal).then((result) => {
      this.#pending.delete(cancel);
      if (!result.ok) {
        // Cancelled by our own shutdown: the destination never judged it, so another exit may.
        const failure = this.#closed ? { reason: OpenFailReason.EXIT_UNAVAILABLE, label: 'cancelled' as const, detail: 'exit closing' } : result.failure;
        this.#fail(stream, failure, log);
        return;
      }
      if (stream.phase !== StreamPhase.PENDING || this.#closed) {
        result.conn.destroy();
        if (stream.phase === StreamPhase.PENDING) stream.reject(OpenFailReason.EXIT_UNAVAILABLE);
        return;
      }
      this.#opened++;
      this.#o.metrics.connectSeconds.observe((this.#now() - started) / 1000);
      if (log.isLevelEnabled('debug')) log.debug({ attempts: result.attempts }, 'connected');
      stream.accept();
      const bridge = new TcpBridge(stream, result.conn, {
        bytes: (direction, n) => this.#count(direction, n),
        now: this.#now,
        closed: () => {
          this.#bridges.delete(bridge);
          this.#o.metrics.streamsActive.dec();
        },
      });
      this.#bridges.add(bridge);
      this.#o.metrics.streamsActive.inc();
      bridge.start();
    });
  }

  #openUdp(stream: MuxStream, log: Logger): void {
    if (!this.#o.udp.enabled) {
      this.#fail(stream, { reason: OpenFailReason.NETWORK_NOT_SUPPORTED, label: 'unsupported', detail: 'udp disabled' }, log);
      return;
    }
    const hooks = {
      bytes: (direction: Direction, n: number) => this.#count(direction, n),
      dropped: (why: string) => {
        if (log.isLevelEnabled('debug')) log.debug({ why }, 'datagram dropped');
      },
      now: this.#now,
      closed: () => {
        if (this.#relays.delete(relay!)) this.#o.metrics.udpFlowsActive.dec();
      },
    };
    let relay: UdpRelay | null = null;
    void UdpRelay.open(stream, this.#o.settings, hooks, this.#o.bindUdp).then((r) => {
      relay = r;
      if (r === null) {
        this.#fail(stream, { reason: OpenFailReason.GENERAL_FAILURE, label: 'error', detail: 'udp bind failed' }, log);
        return;
      }
      if (stream.phase !== StreamPhase.PENDING || this.#closed) {
        r.abort(CloseCode.CANCEL);
        return;
      }
      this.#opened++;
      this.#relays.add(r);
      this.#o.metrics.udpFlowsActive.inc();
      r.start();
    });
  }
}

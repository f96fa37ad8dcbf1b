/**
 * The outbound link to one peer: a bounded queue of raft messages, a dialled WebSocket with the
 * KK handshake, batching of everything queued into as few WebSocket messages as possible, and
 * reconnection with jittered exponential backoff. Links are one-way (like etcd's per-peer
 * stream writers): we only send on links we dial and only receive on links we accept, so two
 * nodes never need to agree on which of two crossing connections to keep.
 *
 * Raft tolerates loss, so the queue drops rather than grows: when it is full new messages are
 * dropped, and when the link goes down the queue is discarded (the leader resends from its
 * progress tracking; candidates and followers retry on their own timers).
 */
import type { SecureChannel } from '../../../shared/channel/secure-channel.ts';
import type { StaticKey } from '../../../shared/crypto/static-key.ts';
import type { DialWebSocketOptions } from '../../../shared/runtime/ws-client.ts';
import type { WsConnection } from '../../../shared/runtime/websocket.ts';
import type { Message, NodeId } from '../types.ts';
import { encodeBatch, messageSizeBound } from './codec.ts';
import { fragmentPayload, framePayload, PayloadKind } from './frames.ts';
import { initiateRaftLink } from './handshake.ts';
import type { TransportLimits, TransportStats } from './limits.ts';
import { errorFields, type RaftLogger } from './logger.ts';

/** Opens a WebSocket to a URL (shared/runtime dialWebSocket, or a test double). */
export type RaftDialer = (url: string, options: DialWebSocketOptions) => Promise<WsConnection>;

/** What a link needs from its transport. */
export interface PeerLinkContext {
  readonly nodeId: NodeId;
  readonly staticKey: StaticKey;
  readonly limits: TransportLimits;
  readonly stats: TransportStats;
  readonly logger: RaftLogger;
  readonly dial: RaftDialer;
  /** The peer's current URL, or undefined while unknown. */
  url(id: NodeId): string | undefined;
  /** Receives messages dropped before any byte of them was written (they never reached the peer). */
  dropped(messages: Message[]): void;
}

/** Link states: idle (no socket, nothing to send), dialing, open, waiting (backoff), closed. */
export type PeerLinkState = 'idle' | 'dialing' | 'open' | 'waiting' | 'closed';

/** One outbound link. */
export class PeerLink {
  readonly peer: NodeId;
  readonly #ctx: PeerLinkContext;
  #state: PeerLinkState = 'idle';
  #queue: Message[] = [];
  /** messageSizeBound of each queued message, computed once. */
  #sizes: number[] = [];
  #queueBytes = 0;
  #payloads: Uint8Array[] = [];
  #channel: SecureChannel | null = null;
  #url = '';
  #writable = true;
  #flushQueued = false;
  #failures = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #abort: AbortController | null = null;

  constructor(peer: NodeId, ctx: PeerLinkContext) {
    this.peer = peer;
    this.#ctx = ctx;
  }

  get state(): PeerLinkState {
    return this.#state;
  }

  /** Messages waiting to be written. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Queues one raft message; drops it when the queue is full. */
  send(m: Message): void {
    if (this.#state === 'closed') return;
    const size = messageSizeBound(m);
    const { maxQueueMessages, maxQueueBytes } = this.#ctx.limits;
    if (this.#queue.length >= maxQueueMessages || (this.#queue.length > 0 && this.#queueBytes + size > maxQueueBytes)) {
      this.#ctx.stats.messagesDropped++;
      this.#ctx.dropped([m]);
      return;
    }
    this.#queue.push(m);
    this.#sizes.push(size);
    this.#queueBytes += size;
    this.#kick();
  }

  /** Queues a non-raft payload (a control request or response); a few at most are kept. */
  sendPayload(kind: PayloadKind, body: Uint8Array): void {
    if (this.#state === 'closed' || this.#payloads.length >= 256) return;
    this.#payloads.push(framePayload(kind, body));
    this.#kick();
  }

  /** The peer's URL changed: drop the link so the next one goes to the new address. */
  urlChanged(): void {
    if (this.#state === 'open' && this.#ctx.url(this.peer) !== this.#url) this.#channel?.close(1000, 'peer moved');
  }

  close(): void {
    if (this.#state === 'closed') return;
    const wasOpen = this.#state === 'open';
    this.#state = 'closed';
    clearTimeout(this.#timer);
    this.#abort?.abort();
    this.#drop();
    if (wasOpen) this.#ctx.stats.linksOpen--;
    this.#channel?.close(1001, 'closing');
    this.#channel = null;
  }

  #kick(): void {
    if (this.#state === 'idle') this.#connect();
    else if (this.#state === 'open' && this.#writable && !this.#flushQueued) {
      // Everything sent in this turn of the event loop leaves in one batch.
      this.#flushQueued = true;
      queueMicrotask(() => this.#flush());
    }
  }

  #drop(): void {
    const dropped = this.#queue;
    this.#queue = [];
    this.#sizes = [];
    this.#queueBytes = 0;
    this.#payloads = [];
    if (dropped.length === 0) return;
    this.#ctx.stats.messagesDropped += dropped.length;
    this.#ctx.dropped(dropped);
  }

  #flush(): void {
    this.#flushQueued = false;
    const ch = this.#channel;
    if (ch === null || this.#state !== 'open') return;
    const { stats, limits } = this.#ctx;
    while (this.#writable && (this.#payloads.length > 0 || this.#queue.length > 0)) {
      let payload: Uint8Array;
      if (this.#payloads.length > 0) {
        payload = this.#payloads.shift()!;
      } else {
        let n = 0;
        let bytes = 0;
        while (n < this.#queue.length && n < 65_536) {
          const size = this.#sizes[n]!;
          if (n > 0 && bytes + size > limits.maxBatchBytes) break;
          bytes += size;
          n++;
        }
        const batch = this.#queue.splice(0, n);
        this.#sizes.splice(0, n);
        this.#queueBytes = Math.max(0, this.#queueBytes - bytes);
        try {
          payload = framePayload(PayloadKind.Batch, encodeBatch(batch));
        } catch (err) {
          this.#ctx.logger.error({ peer: this.peer, ...errorFields(err) }, 'Raft batch could not be encoded; dropped');
          stats.messagesDropped += batch.length;
          this.#ctx.dropped(batch);
          continue;
        }
        stats.messagesSent += batch.length;
        stats.batchesSent++;
      }
      stats.bytesSent += payload.length;
      for (const f of fragmentPayload(payload)) {
        if (!ch.send(f)) this.#writable = false;
      }
    }
  }

  #connect(): void {
    const url = this.#ctx.url(this.peer);
    if (url === undefined) {
      // No address yet (a member whose URL entry is not applied here yet): try again later.
      this.#drop();
      this.#wait(this.#ctx.limits.backoffMaxMs);
      return;
    }
    this.#state = 'dialing';
    this.#url = url;
    this.#ctx.stats.dials++;
    const abort = new AbortController();
    this.#abort = abort;
    void this.#dialAndHandshake(url, abort.signal).then(
      (ch) => {
        if (this.#state === 'closed') {
          ch.terminate();
          return;
        }
        this.#opened(ch);
      },
      (err: unknown) => {
        if (this.#state === 'closed') return;
        this.#ctx.stats.dialFailures++;
        this.#failures++;
        this.#ctx.logger.debug({ peer: this.peer, url, ...errorFields(err) }, 'Raft link dial failed');
        this.#down();
      },
    );
  }

  async #dialAndHandshake(url: string, signal: AbortSignal): Promise<SecureChannel> {
    const { limits, dial, staticKey, nodeId } = this.#ctx;
    const started = Date.now();
    const ws = await dial(url, {
      timeoutMs: limits.dialTimeoutMs,
      signal,
      highWaterMark: limits.highWaterMark,
      // Noise KK authenticates the peer end to end; TLS here only blends in (handler/links does the same).
      tls: { insecure: true },
    });
    const est = await initiateRaftLink(ws, {
      staticKey,
      nodeId,
      expectPeer: this.peer,
      timeoutMs: Math.max(1, limits.dialTimeoutMs - (Date.now() - started)),
      signal,
    });
    return est.channel;
  }

  #opened(ch: SecureChannel): void {
    this.#abort = null;
    this.#channel = ch;
    this.#state = 'open';
    this.#writable = true;
    this.#failures = 0;
    this.#ctx.stats.linksOpen++;
    this.#ctx.logger.debug({ peer: this.peer, url: this.#url }, 'Raft link open');
    ch.onDrain(() => {
      this.#writable = true;
      this.#flush();
    });
    ch.onClose((code, _reason, error) => {
      if (this.#channel !== ch) return;
      this.#channel = null;
      if (this.#state === 'closed') return;
      this.#ctx.stats.linksOpen--;
      this.#ctx.logger.debug({ peer: this.peer, code, ...(error === undefined ? {} : errorFields(error)) }, 'Raft link closed');
      this.#down();
    });
    // Nothing is expected on a link we dialled; reading keeps the socket flowing.
    ch.onMessage(() => {});
    this.#flush();
  }

  #down(): void {
    this.#drop();
    const { backoffMinMs, backoffMaxMs } = this.#ctx.limits;
    const exp = Math.min(backoffMaxMs, backoffMinMs * 2 ** Math.min(this.#failures, 20));
    // Full jitter in [exp/2, exp): restarted peers are not hit by every node at the same instant.
    this.#wait(Math.max(1, Math.round(exp / 2 + (Math.random() * exp) / 2)));
  }

  #wait(ms: number): void {
    this.#state = 'waiting';
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      if (this.#state !== 'waiting') return;
      this.#state = 'idle';
      if (this.#queue.length > 0 || this.#payloads.length > 0) this.#connect();
    }, ms);
  }
}

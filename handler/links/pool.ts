/**
 * The pool of links to exits (ARCHITECTURE 1, 5): `poolSize` dialed links per dial-mode exit,
 * redialed with backoff and jitter when they drop, plus whatever links reverse-mode exits open
 * to links.path. It keeps the exit selector told about each exit: linkUp/linkDown when the exit
 * gains its first usable link or loses its last, and heartbeat()/heartbeatMissed() from a PING
 * on every link each heartbeatInterval; a link that misses maxMissedHeartbeats in a row is
 * dropped (its streams fail, the client sees RESET(UPSTREAM_LOST)) and redialed.
 *
 * Exit records come from the replicated state. A record whose url, key or mode changed gets
 * fresh links; a disabled or deleted exit's links drain (no new streams, old ones finish, then
 * close); a draining exit keeps its links, because the selector alone keeps new streams off it.
 */
import { absorbThenClose, type AcceptOutcome, type HelloTemplate } from '../../shared/channel/handshake.ts';
import { ReplayGuard } from '../../shared/crypto/replay-guard.ts';
import type { StaticKey } from '../../shared/crypto/static-key.ts';
import type { Logger } from '../../shared/log.ts';
import type { HandlerMetrics } from '../../shared/metrics/catalog.ts';
import type { OpenRequest, WindowGrowth } from '../../shared/mux/options.ts';
import type { MuxStream } from '../../shared/mux/stream.ts';
import { Network } from '../../shared/protocol/constants.ts';
import { Capability } from '../../shared/protocol/hello.ts';
import type { WsConnection } from '../../shared/runtime/websocket.ts';
import type { ExitSelector } from '../routing/selector.ts';
import type { ExitRecord } from '../state/types.ts';
import { DEFAULT_LINK_BACKOFF, type BackoffOptions } from './backoff.ts';
import { DialSlot, type SlotHost } from './dial-slot.ts';
import { acceptExitLink, dialExitLink, type LinkDialer } from './connect.ts';
import { ExitLink } from './link.ts';

/**
 * The answer of LinkPool.open(): the link stream, or why there is none: `no_link` (no usable
 * link: retry on another exit) or `unsupported` (udp asked of an exit without UDP).
 */
export type LinkOpenResult = { ok: true; stream: MuxStream } | { ok: false; reason: 'no_link' | 'unsupported' };

/** Options of a LinkPool. */
export interface LinkPoolOptions {
  /** The handler cluster key (Noise static of every link). */
  staticKey: StaticKey;
  /** Our link hello (linkHello()). */
  hello: HelloTemplate;
  selector: ExitSelector;
  logger: Logger;
  metrics?: HandlerMetrics;
  /** Links per dial-mode exit (links.poolSize). */
  poolSize: number;
  /** Streams per link before another link is used (links.maxStreamsPerLink). */
  maxStreamsPerLink: number;
  /** Dial plus handshake deadline (links.dialTimeout). */
  dialTimeoutMs: number;
  /** Reverse-mode handshake deadline (limits.handshakeTimeout). */
  handshakeTimeoutMs: number;
  heartbeatIntervalMs: number;
  heartbeatTimeoutMs: number;
  maxMissedHeartbeats: number;
  /** OPEN_OK deadline on links (ms); default the mux's 10 s. */
  openTimeoutMs?: number;
  /** Window auto-tuning of links (shared budget); default the mux defaults. */
  windows?: WindowGrowth;
  /** How long a removed or disabled exit's links may take to finish their streams (default 60 s). */
  drainTimeoutMs?: number;
  backoff?: BackoffOptions;
  random?: () => number;
  dial?: LinkDialer;
}

interface ExitState {
  record: ExitRecord;
  links: Set<ExitLink>;
  slots: DialSlot[];
  /** What the selector was last told: a usable link exists. */
  reported: boolean;
}

/** Links to every exit, kept up and health-checked. */
export class LinkPool implements SlotHost {
  readonly logger: Logger;
  readonly backoff: BackoffOptions;
  readonly random: () => number;
  readonly drainTimeoutMs: number;
  readonly #o: LinkPoolOptions;
  readonly #exits = new Map<string, ExitState>();
  readonly #reverseGuard = new ReplayGuard();
  readonly #heartbeat: ReturnType<typeof setInterval>;
  readonly #waiters = new Set<() => void>();
  #closed = false;

  constructor(options: LinkPoolOptions) {
    this.#o = options;
    this.logger = options.logger;
    this.backoff = options.backoff ?? DEFAULT_LINK_BACKOFF;
    this.random = options.random ?? Math.random;
    this.drainTimeoutMs = options.drainTimeoutMs ?? 60_000;
    this.#heartbeat = setInterval(() => this.#beat(), options.heartbeatIntervalMs);
  }

  /**
   * Takes the exit list from the state (call on start and on every exitChanged/restored event):
   * updates the selector's descriptors and starts, keeps or stops links to match.
   */
  setExits(records: readonly ExitRecord[]): void {
    if (this.#closed) return;
    this.#o.selector.setExits(records.map(({ id, region, weight, state }) => ({ id, region, weight, state })));
    const seen = new Set<string>();
    for (const record of records) {
      seen.add(record.id);
      const st = this.#exits.get(record.id);
      if (st !== undefined && sameLinkTarget(st.record, record) && (st.record.state === 'disabled') === (record.state === 'disabled')) {
        st.record = record;
        this.#report(st);
        continue;
      }
      if (st !== undefined) this.#retire(st);
      this.#create(record);
    }
    for (const st of [...this.#exits.values()]) if (!seen.has(st.record.id)) this.#retire(st);
  }

  /**
   * Opens a stream to `exitId` on its least loaded usable link. Without a usable link (none
   * up, all full or going away) the caller treats the exit as unavailable and retries elsewhere.
   */
  open(exitId: string, request: OpenRequest): LinkOpenResult {
    const st = this.#exits.get(exitId);
    if (st === undefined) return { ok: false, reason: 'no_link' };
    let links = [...st.links].filter((l) => l.usable);
    if (links.length > 0 && request.network === Network.UDP) {
      links = links.filter((l) => (l.remoteHello.capabilities & Capability.UDP) !== 0);
      if (links.length === 0) return { ok: false, reason: 'unsupported' };
    }
    links.sort((a, b) => a.load - b.load);
    for (const link of links) {
      try {
        return { ok: true, stream: link.open(request) };
      } catch (err) {
        this.logger.debug({ exit: exitId, err }, 'link refused a new stream');
      }
    }
    this.#report(st);
    return { ok: false, reason: 'no_link' };
  }

  /** Live links of one exit (or of all). */
  linkCount(exitId?: string): number {
    if (exitId !== undefined) return this.#exits.get(exitId)?.links.size ?? 0;
    let n = 0;
    for (const st of this.#exits.values()) n += st.links.size;
    return n;
  }

  /** Live links of one exit, for tests and the admin view. */
  links(exitId: string): readonly ExitLink[] {
    return [...(this.#exits.get(exitId)?.links ?? [])];
  }

  /** Resolves once `test()` holds, re-checked whenever a link comes or goes (or the pool closes). */
  when(test: () => boolean): Promise<void> {
    if (test() || this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (!test() && !this.#closed) return;
        this.#waiters.delete(check);
        resolve();
      };
      this.#waiters.add(check);
    });
  }

  /**
   * Handles a WebSocket a reverse-mode exit opened on links.path: KK handshake over the
   * registered reverse exits' keys; on success the link joins the pool, on any failure the
   * socket is drained until `deadlineAt` and dropped, exactly as a failed client handshake.
   */
  async acceptReverse(ws: WsConnection, deadlineAt: number): Promise<void> {
    const candidates = [...this.#exits.values()]
      .map((st) => st.record)
      .filter((r) => r.mode === 'reverse' && r.state !== 'disabled');
    const timeoutMs = Math.max(1, deadlineAt - Date.now());
    const outcome: AcceptOutcome<ExitRecord> = this.#closed
      ? { ok: false, reason: 'closed', error: new Error('Link pool is closed') }
      : await acceptExitLink(ws, {
          staticKey: this.#o.staticKey,
          candidates,
          hello: this.#o.hello,
          replayGuard: this.#reverseGuard,
          timeoutMs,
        });
    if (!outcome.ok) {
      this.logger.debug({ reason: outcome.reason, remote: ws.remoteAddress }, 'reverse link refused');
      await absorbThenClose(ws, Math.max(0, deadlineAt - Date.now()));
      return;
    }
    const st = this.#exits.get(outcome.auth.id);
    if (st === undefined || this.#closed) {
      outcome.channel.terminate();
      return;
    }
    this.adopt(new ExitLink(outcome, outcome.auth.id, 'reverse', this.#linkOptions(outcome.auth.id)));
  }

  /** @internal Dials one link (used by the dial slots). */
  async dial(record: ExitRecord, signal: AbortSignal): Promise<ExitLink> {
    const est = await dialExitLink(record, {
      staticKey: this.#o.staticKey,
      hello: this.#o.hello,
      timeoutMs: this.#o.dialTimeoutMs,
      signal,
      ...(this.#o.dial === undefined ? {} : { dial: this.#o.dial }),
    });
    return new ExitLink(est, record.id, 'dial', this.#linkOptions(record.id));
  }

  /** @internal A link is up: count it, tell the selector, forget it when it drops. */
  adopt(link: ExitLink): void {
    const st = this.#exits.get(link.exitId);
    if (st === undefined || this.#closed) {
      link.close();
      return;
    }
    st.links.add(link);
    this.logger.info({ exit: link.exitId, link: link.serial, direction: link.direction, links: st.links.size }, 'exit link up');
    this.#report(st);
    void link.closed.then(() => {
      st.links.delete(link);
      this.logger.info({ exit: link.exitId, link: link.serial, links: st.links.size }, 'exit link down');
      if (this.#exits.get(link.exitId) === st) this.#report(st);
      this.#wake();
    });
    this.#wake();
  }

  /** Closes every link and stops dialing; resolves when the links are gone. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    const all: Promise<void>[] = [];
    for (const st of this.#exits.values()) {
      for (const slot of st.slots) slot.stop(true);
      for (const link of st.links) {
        link.close();
        all.push(link.closed);
      }
    }
    this.#exits.clear();
    this.#wake();
    await Promise.all(all);
  }

  #linkOptions(exitId: string): ConstructorParameters<typeof ExitLink>[3] {
    return {
      maxStreams: this.#o.maxStreamsPerLink,
      ...(this.#o.windows === undefined ? {} : { windows: this.#o.windows }),
      ...(this.#o.openTimeoutMs === undefined ? {} : { openTimeoutMs: this.#o.openTimeoutMs }),
      onGoAway: () => {
        const st = this.#exits.get(exitId);
        this.logger.info({ exit: exitId }, 'exit sent GOAWAY on a link');
        if (st !== undefined) this.#report(st);
        this.#wake();
      },
    };
  }

  #create(record: ExitRecord): void {
    const st: ExitState = { record, links: new Set(), slots: [], reported: false };
    this.#exits.set(record.id, st);
    // The selector may still remember this id as up from an earlier record; start from down.
    this.#o.selector.linkDown(record.id);
    this.#o.metrics?.exitUp.set({ exit: record.id }, 0);
    if (record.mode === 'dial' && record.url !== null && record.state !== 'disabled') {
      for (let i = 0; i < this.#o.poolSize; i++) {
        const slot = new DialSlot(this, record);
        st.slots.push(slot);
        slot.start();
      }
    }
  }

  #retire(st: ExitState): void {
    this.#exits.delete(st.record.id);
    for (const slot of st.slots) slot.stop(false);
    for (const link of st.links) void link.drain(this.drainTimeoutMs);
    this.#o.metrics?.exitUp.set({ exit: st.record.id }, 0);
  }

  /** Tells the selector when the exit gains its first or loses its last usable link. */
  #report(st: ExitState): void {
    let usable = false;
    for (const l of st.links) if (l.alive) usable = true;
    if (usable !== st.reported) {
      st.reported = usable;
      if (usable) this.#o.selector.linkUp(st.record.id);
      else this.#o.selector.linkDown(st.record.id);
    }
    this.#o.metrics?.exitUp.set({ exit: st.record.id }, usable && st.record.state === 'active' ? 1 : 0);
  }

  #beat(): void {
    const o = this.#o;
    for (const st of this.#exits.values()) {
      for (const link of st.links) {
        if (link.pinging || link.session.isClosed) continue;
        link.pinging = true;
        link.session.ping(o.heartbeatTimeoutMs).then(
          (rtt) => {
            link.pinging = false;
            link.missed = 0;
            // A link the exit is draining still answers; it must not mark the exit up.
            if (!link.alive || this.#exits.get(st.record.id) !== st) return;
            o.selector.heartbeat(st.record.id, rtt);
            o.metrics?.exitRttSeconds.set({ exit: st.record.id }, rtt / 1000);
          },
          () => {
            link.pinging = false;
            if (link.session.isClosed) return;
            link.missed++;
            o.selector.heartbeatMissed(st.record.id);
            if (link.missed >= o.maxMissedHeartbeats) {
              this.logger.warn({ exit: st.record.id, link: link.serial, missed: link.missed }, 'exit link missed heartbeats; dropping it');
              link.terminate();
            }
          },
        );
      }
    }
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }
}

function sameLinkTarget(a: ExitRecord, b: ExitRecord): boolean {
  return a.url === b.url && a.publicKey === b.publicKey && a.mode === b.mode;
}

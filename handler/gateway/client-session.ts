/**
 * One authenticated client session: a MuxSession (the handler accepts streams) over the Noise
 * channel. Each OPEN becomes a StreamBridge to an exit chosen for this user and the region the
 * client asked for in its hello; the user's bytes are counted and shaped by the meter shared
 * with the user's other sessions. Stream limits come from our hello (maxStreams), so the mux
 * itself answers OPEN_FAIL(STREAM_LIMIT) beyond limits.maxStreamsPerSession.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import type { ChannelEstablished } from '../../shared/channel/handshake.ts';
import type { Logger } from '../../shared/log.ts';
import type { HandlerMetrics } from '../../shared/metrics/catalog.ts';
import { muxOptionsFromHellos } from '../../shared/mux/hellos.ts';
import type { WindowGrowth } from '../../shared/mux/options.ts';
import { MuxSession } from '../../shared/mux/session.ts';
import type { MuxStream } from '../../shared/mux/stream.ts';
import { CloseCode, OpenFailReason } from '../../shared/protocol/codes.ts';
import { StreamBridge } from '../bridge/bridge.ts';
import type { BridgeObserver, Direction, StreamMeter, StreamRouter } from '../bridge/types.ts';
import type { LinkPool } from '../links/pool.ts';
import type { ExitSelector } from '../routing/selector.ts';
import type { PickRequest } from '../routing/types.ts';
import type { StateView, UserRecord } from '../state/types.ts';
import type { UserAccount } from './accounts.ts';
import { ActivityTransport } from './activity.ts';
import type { UsageLedger } from './usage.ts';

/** What every session of the gateway shares. */
export interface SessionDeps {
  state: StateView;
  selector: ExitSelector;
  links: LinkPool;
  ledger: UsageLedger;
  metrics?: HandlerMetrics;
  logger: Logger;
  /** Answer deadline for OPENs (ms): the acceptor's openTimeoutMs. */
  openTimeoutMs: number;
  /** Window auto-tuning (shared budget). */
  windows: WindowGrowth;
  now: () => number;
}

const tagPrefix = new TextEncoder().encode('apfsds tag v1\u0000');

/** The opaque origin tag on link OPENs: 8 bytes of SHA-256 over the user id (exits see no ids). */
export function originTag(userId: string): Uint8Array {
  const id = new TextEncoder().encode(userId);
  const input = new Uint8Array(tagPrefix.length + id.length);
  input.set(tagPrefix);
  input.set(id, tagPrefix.length);
  return sha256(input).subarray(0, 8);
}

let nextSessionSerial = 1;

/** A client session on this handler. */
export class ClientSession {
  readonly id: string;
  readonly userId: string;
  readonly mux: MuxSession;
  readonly transport: ActivityTransport;
  readonly logger: Logger;
  readonly #deps: SessionDeps;
  readonly #account: UserAccount<ClientSession>;
  readonly #region: string;
  readonly #tag: Uint8Array;
  // One router, meter and observer per session, shared by its streams: built per stream they
  // were a dozen closures and two Maps for every idle stream.
  readonly #router: StreamRouter;
  readonly #meter: StreamMeter;
  readonly #observer: BridgeObserver;

  constructor(est: ChannelEstablished, user: UserRecord, account: UserAccount<ClientSession>, deps: SessionDeps, onClosed: (s: ClientSession) => void) {
    this.id = `s${(nextSessionSerial++).toString(36)}`;
    this.userId = user.id;
    this.#deps = deps;
    this.#account = account;
    this.#region = est.remoteHello.region.toLowerCase();
    this.#tag = originTag(user.id);
    this.logger = deps.logger.child({ session: this.id, user: user.id });
    this.#router = this.#makeRouter();
    this.#meter = this.#makeMeter();
    const metrics = deps.metrics;
    this.#observer = {
      selected: (exit) => metrics?.exitSelections.inc({ exit }),
      noExit: (reason) => metrics?.noExit.inc({ reason }),
      opened: (exit, seconds) => metrics?.streamOpenSeconds.observe({ exit }, seconds),
      finished: () => metrics?.streamsActive.dec(),
    };
    this.transport = new ActivityTransport(est.channel, deps.now);
    this.mux = new MuxSession(this.transport, {
      role: 'acceptor',
      ...muxOptionsFromHellos(est.localHello, est.remoteHello),
      // Liveness is the client's job (it pings); a silent session ends by the idle timeout.
      keepaliveIntervalMs: 0,
      openTimeoutMs: deps.openTimeoutMs,
      ...deps.windows,
      onOpen: (stream) => this.#onOpen(stream),
      onClose: (err) => {
        this.logger.info({ err: err?.message }, 'session closed');
        onClosed(this);
      },
    });
  }

  /** Streams open on the session. */
  get streamCount(): number {
    return this.mux.streamCount;
  }

  /** Closes the session because the user was blocked (POLICY) or the handler stops (NO_ERROR). */
  closeFor(reason: string): void {
    this.logger.info({ reason }, 'closing session');
    this.mux.close(reason === 'shutdown' ? CloseCode.NO_ERROR : CloseCode.POLICY);
  }

  /** GOAWAY, let streams finish for up to `ms`, then close. */
  drain(ms: number): Promise<void> {
    return this.mux.drain(ms);
  }

  /** Ends a session silent for longer than the idle timeout. */
  closeIdle(): void {
    this.logger.info('session idle; closing');
    this.mux.close(CloseCode.IDLE_TIMEOUT);
  }

  #onOpen(stream: MuxStream): void {
    const d = this.#deps;
    const user = d.state.users.get(this.userId);
    if (user === undefined || user.status !== 'active') {
      stream.reject(OpenFailReason.NOT_ALLOWED);
      return;
    }
    if (d.ledger.exhausted(user)) {
      stream.reject(OpenFailReason.QUOTA_EXCEEDED);
      return;
    }
    d.metrics?.streamsActive.inc();
    const bridge = new StreamBridge({
      client: stream,
      tag: this.#tag,
      router: this.#router,
      meter: this.#meter,
      observer: this.#observer,
    });
    void bridge.run();
  }

  #makeRouter(): StreamRouter {
    const { selector, links, state } = this.#deps;
    const userId = this.userId;
    const request = (): PickRequest => {
      const r: { allowedRegions?: readonly string[]; region?: string; strictRegion?: boolean } = {};
      // The user's record as it is now (an admin may have changed the allowed regions); a user
      // removed meanwhile is allowed nowhere (the gateway closes their sessions).
      const current = state.users.get(userId);
      const allowed = current === undefined ? [] : current.allowedRegions;
      if (allowed !== null) r.allowedRegions = allowed;
      if (this.#region !== '') r.region = this.#region;
      if (state.settings().strictRegion) r.strictRegion = true;
      return r;
    };
    return {
      pick: () => selector.pick(request()),
      retry: (failed, tried) => selector.retry(request(), failed, tried),
      open: (exitId, req) => links.open(exitId, req),
      openSucceeded: (exitId) => selector.openSucceeded(exitId),
      openFailed: (exitId) => selector.openFailed(exitId),
      streamStalled: (exitId) => selector.streamStalled(exitId),
    };
  }

  #makeMeter(): StreamMeter {
    const { ledger, state, metrics } = this.#deps;
    const bucket = this.#account.bucket;
    const userId = this.userId;
    // Bound counter handles per direction and exit: count() runs per relayed chunk, and
    // building the series key (label escaping) each time showed in profiles.
    const handles = { up: new Map<string, { inc(v?: number): void }>(), down: new Map<string, { inc(v?: number): void }>() };
    const bytesFor = (direction: Direction, exitId: string): { inc(v?: number): void } | undefined => {
      if (metrics === undefined) return undefined;
      let h = handles[direction].get(exitId);
      if (h === undefined) {
        h = metrics.bytes.labels({ direction, exit: exitId === '' ? 'none' : exitId });
        handles[direction].set(exitId, h);
      }
      return h;
    };
    return {
      count(direction: Direction, n: number, exitId: string): boolean {
        ledger.add(userId, direction, n);
        bytesFor(direction, exitId)?.inc(n);
        const user = state.users.get(userId);
        return user !== undefined && !ledger.exhausted(user);
      },
      delay: (n) => bucket.take(n),
      admitDatagram(n: number): boolean {
        if (bucket.tokens < n) return false;
        bucket.take(n);
        return true;
      },
    };
  }
}

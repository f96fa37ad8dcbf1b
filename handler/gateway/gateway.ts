/**
 * The public listener (ARCHITECTURE 1, 3, 7): HTTP(S) on config.listen, where only a
 * well-formed WebSocket upgrade on the secret `path` (client sessions) or on `links.path`
 * (reverse-mode exits) becomes a tunnel; every other request, a plain GET on the secret path
 * included, gets the decoy site (shared/runtime answers refused upgrades byte for byte like the
 * same request without Upgrade).
 *
 * After the upgrade the client must complete Noise IK within limits.handshakeTimeout: known
 * key, active user, under its session limit, hello timestamp within +-30 s, message 1 not seen
 * in the last 60 s. Every failure, and a source over its connection rate, gets one answer:
 * nothing. The socket is read and discarded until the handshake deadline (counted from the
 * upgrade, so the failure kind cannot show in the timing), then dropped without a close frame,
 * exactly like an idle socket that never sent a byte.
 */
import { acceptSession, type AcceptOutcome, type HandshakeRefusal } from '../../shared/channel/index.ts';
import { absorbThenClose } from '../../shared/channel/handshake.ts';
import type { HandlerConfig } from '../../shared/config/handler.ts';
import { ReplayGuard } from '../../shared/crypto/replay-guard.ts';
import type { StaticKey } from '../../shared/crypto/static-key.ts';
import type { Logger } from '../../shared/log.ts';
import type { HandlerMetrics } from '../../shared/metrics/catalog.ts';
import type { WindowGrowth } from '../../shared/mux/options.ts';
import { MAX_NOISE_MESSAGE } from '../../shared/protocol/constants.ts';
import { serve, type ConnInfo, type HttpServer } from '../../shared/runtime/http-server.ts';
import type { WsConnection } from '../../shared/runtime/websocket.ts';
import { builtinDecoy } from '../decoy/builtin.ts';
import type { Decoy } from '../decoy/decoy.ts';
import type { LinkPool } from '../links/pool.ts';
import type { ExitSelector } from '../routing/selector.ts';
import type { StateView, UserRecord } from '../state/types.ts';
import { Accounts, type Reservation } from './accounts.ts';
import { ClientSession } from './client-session.ts';
import { clientAddress, ConnectionRateLimiter } from './ip-limiter.ts';
import { sessionHello } from './session-hello.ts';
import type { UsageLedger } from './usage.ts';

/** Options of the gateway. */
export interface GatewayOptions {
  config: Pick<HandlerConfig, 'listen' | 'tls' | 'trustProxy' | 'path' | 'links' | 'limits'>;
  /** The cluster key (Noise IK responder static). */
  clusterKey: StaticKey;
  state: StateView;
  selector: ExitSelector;
  links: LinkPool;
  ledger: UsageLedger;
  decoy: Decoy;
  logger: Logger;
  metrics?: HandlerMetrics;
  /** Wall clock (ms) for deadlines, hello timestamps and idle checks; default Date.now. */
  now?: () => number;
  /** OPEN answer deadline on client sessions (ms, default 30 s): longer than a link OPEN with retries. */
  openTimeoutMs?: number;
  /** Window auto-tuning of client sessions (limits.maxStreamWindow...); default the mux defaults. */
  windows?: WindowGrowth;
}

/** Why a session handshake was refused, as the handshakes metric labels it. */
type Denial = 'unknown_user' | 'disabled' | 'limit';

function resultOf(reason: HandshakeRefusal, denial: Denial): string {
  switch (reason) {
    case 'handshake':
    case 'hello':
      return 'bad_handshake';
    case 'replay':
      return 'replay';
    case 'denied':
      return denial;
    default:
      return 'timeout';
  }
}

/** The running public listener with its client sessions. */
export class Gateway {
  readonly #o: GatewayOptions;
  readonly #now: () => number;
  readonly #accounts: Accounts<ClientSession>;
  readonly #limiter: ConnectionRateLimiter;
  readonly #replayGuard: ReplayGuard;
  readonly #drains = new Set<Promise<void>>();
  #server: HttpServer | null = null;
  #sweeper: ReturnType<typeof setInterval> | undefined;
  #closing = false;

  private constructor(o: GatewayOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
    const limits = o.config.limits;
    this.#accounts = new Accounts<ClientSession>({ limits, settings: () => o.state.settings() });
    this.#limiter = new ConnectionRateLimiter(limits.connectionRate);
    this.#replayGuard = new ReplayGuard({ now: this.#now });
  }

  /** Starts listening on config.listen. Rejects with BAD_CONFIG when the port cannot be bound. */
  static async start(options: GatewayOptions): Promise<Gateway> {
    const g = new Gateway(options);
    await g.#listen();
    return g;
  }

  /** The bound port. */
  get port(): number {
    return this.#server?.port ?? 0;
  }

  /** The bound address. */
  get address(): string {
    return this.#server?.address ?? '';
  }

  /** Open client sessions. */
  get sessionCount(): number {
    let n = 0;
    for (const _ of this.#accounts.sessions()) n++;
    return n;
  }

  /** Sessions of one user on this handler. */
  sessionsOf(userId: string): number {
    return this.#accounts.get(userId)?.sessions.size ?? 0;
  }

  /** Closes the user's sessions (state event userDisabled). */
  closeUser(userId: string, reason: string): void {
    const n = this.#accounts.closeUser(userId, reason);
    if (n > 0) this.#o.logger.info({ user: userId, reason, sessions: n }, 'closed the sessions of a blocked user');
  }

  /** A user record changed: its bandwidth applies at once. */
  userChanged(user: UserRecord): void {
    this.#accounts.userChanged(user);
  }

  /** Cluster settings changed: default rates apply at once. */
  settingsChanged(): void {
    this.#accounts.settingsChanged((id) => this.#o.state.users.get(id));
  }

  /**
   * Stops accepting, sends GOAWAY on every session, lets streams finish for up to `graceMs`,
   * then closes what is left and the listener.
   */
  async close(graceMs = 2_000): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    clearInterval(this.#sweeper);
    const sessions = [...this.#accounts.sessions()];
    await Promise.all(sessions.map((s) => s.drain(graceMs)));
    await this.#server?.close({ graceMs: 0 });
    await Promise.all([...this.#drains]);
  }

  async #listen(): Promise<void> {
    const { config, logger } = this.#o;
    const sessionPath = config.path;
    const linksPath = config.links.path;
    this.#server = await serve({
      hostname: config.listen.host,
      port: config.listen.port,
      ...(config.tls === undefined ? {} : { tls: { certFile: config.tls.certFile, keyFile: config.tls.keyFile } }),
      // One Noise message per WebSocket message (docs/protocol.md 1): nothing larger is legitimate.
      maxPayload: MAX_NOISE_MESSAGE,
      fetch: (req) => this.#decoy(req),
      websocket: {
        match: (req) => {
          const p = new URL(req.url).pathname;
          return p === sessionPath || (linksPath !== undefined && p === linksPath);
        },
        onOpen: (ws, req, info) => this.#upgraded(ws, req, info),
      },
      onError: (err) => logger.warn({ err }, 'listener error'),
    });
    const idle = config.limits.idleTimeout;
    this.#sweeper = setInterval(() => this.#sweep(idle), Math.max(250, Math.min(idle / 2, 30_000)));
  }

  async #decoy(req: Request): Promise<Response> {
    this.#o.metrics?.probesRejected.inc({ kind: 'path' });
    try {
      return await this.#o.decoy(req);
    } catch (err) {
      this.#o.logger.warn({ err }, 'decoy failed; answering with the built-in 404');
      return builtinDecoy(new Request(new URL('/404', req.url)));
    }
  }

  #upgraded(ws: WsConnection, req: Request, info: ConnInfo): void {
    const { config, metrics } = this.#o;
    const deadlineAt = this.#now() + config.limits.handshakeTimeout;
    const ip = clientAddress(req.headers, info.remoteAddress, config.trustProxy);
    if (this.#closing) {
      ws.terminate();
      return;
    }
    if (!this.#limiter.allow(ip)) {
      metrics?.probesRejected.inc({ kind: 'rate' });
      this.#refuse(ws, deadlineAt);
      return;
    }
    const path = new URL(req.url).pathname;
    if (path !== config.path) {
      this.#track(this.#o.links.acceptReverse(ws, deadlineAt));
      return;
    }
    this.#handshake(ws, deadlineAt);
  }

  #handshake(ws: WsConnection, deadlineAt: number): void {
    const { config, state, metrics, logger } = this.#o;
    let reservation: Reservation<ClientSession> | null = null;
    let denial: Denial = 'unknown_user';
    const outcome: Promise<AcceptOutcome<UserRecord>> = acceptSession<UserRecord>(ws, {
      staticKey: this.#o.clusterKey,
      hello: (remote) => sessionHello(config.limits, remote),
      replayGuard: this.#replayGuard,
      timeoutMs: Math.max(1, deadlineAt - this.#now()),
      now: this.#now,
      authorize: (publicKey) => {
        const admission = state.users.admit(publicKey);
        if (!admission.ok) {
          denial = admission.reason === 'disabled' || admission.reason === 'quota' ? 'disabled' : 'unknown_user';
          return false;
        }
        const r = this.#accounts.reserve(admission.user);
        if (r === null) {
          denial = 'limit';
          return false;
        }
        reservation = r;
        return admission.user;
      },
    });
    void outcome.then((o) => {
      const held = reservation as Reservation<ClientSession> | null;
      if (!o.ok) {
        held?.release();
        const result = resultOf(o.reason, denial);
        metrics?.handshakes.inc({ result });
        metrics?.probesRejected.inc({ kind: result === 'bad_handshake' ? 'garbage' : 'handshake' });
        logger.debug({ result, remote: ws.remoteAddress }, 'session handshake refused');
        this.#refuse(ws, deadlineAt);
        return;
      }
      const user = state.users.get(o.auth.id);
      if (held === null || this.#closing || user === undefined || user.status !== 'active') {
        // Blocked while message 2 was on its way, or we are stopping.
        held?.release();
        o.channel.terminate();
        return;
      }
      metrics?.handshakes.inc({ result: 'ok' });
      const session = new ClientSession(o, user, held.account, this.#sessionDeps(), (s) => {
        this.#accounts.remove(s.userId, s);
        metrics?.sessionsActive.dec();
      });
      held.commit(session);
      metrics?.sessionsActive.inc();
      session.logger.info({ remote: ws.remoteAddress, region: o.remoteHello.region, skewMs: o.clockSkewMs }, 'session open');
    });
  }

  #sessionDeps(): ConstructorParameters<typeof ClientSession>[3] {
    const o = this.#o;
    return {
      state: o.state,
      selector: o.selector,
      links: o.links,
      ledger: o.ledger,
      logger: o.logger,
      openTimeoutMs: o.openTimeoutMs ?? 30_000,
      windows: o.windows ?? {},
      now: this.#now,
      ...(o.metrics === undefined ? {} : { metrics: o.metrics }),
    };
  }

  /** The one answer to every failure: read and discard until the deadline, then drop silently. */
  #refuse(ws: WsConnection, deadlineAt: number): void {
    this.#track(absorbThenClose(ws, Math.max(0, deadlineAt - this.#now())));
  }

  #track(p: Promise<void>): void {
    const tracked = p.catch((err: unknown) => this.#o.logger.warn({ err }, 'refused connection handling failed'));
    this.#drains.add(tracked);
    void tracked.finally(() => this.#drains.delete(tracked));
  }

  #sweep(idleMs: number): void {
    const t = this.#now();
    for (const s of [...this.#accounts.sessions()]) if (t - s.transport.lastActivity > idleMs) s.closeIdle();
  }
}

/**
 * One UDP association (SOCKS5 UDP ASSOCIATE, RFC 1928 section 7) carried on a link stream as
 * DATAGRAM frames (docs/protocol.md 3.3). Each association has its own UDP sockets (one per
 * address family, bound on accept), so replies map back to the stream by socket alone.
 *
 * Outbound, every datagram's destination is resolved (domain names, cached briefly) and
 * judged by the egress policy; refused or unresolvable destinations are dropped, as UDP
 * allows. Inbound, only datagrams from addresses this association has sent to are relayed
 * (address-restricted filtering, RFC 4787 section 5), so the exit's ports do not become an
 * open inbound relay. The association ends on FIN, RESET or after idleTimeout without traffic.
 */
import { CloseCode } from '../../shared/protocol/codes.ts';
import { toEndpoint, type Endpoint } from '../../shared/protocol/address.ts';
import { AddressType } from '../../shared/protocol/constants.ts';
import type { MuxStream } from '../../shared/mux/stream.ts';
import { bindUdp, type BindUdpOptions, type UdpSocket } from '../../shared/runtime/udp.ts';
import { parseIP } from '../../shared/net/ip.ts';
import { resolveAllowed, type EgressSettings } from './connect.ts';
import type { Direction } from './tcp-bridge.ts';

/** Peers remembered per association for inbound filtering. */
const MAX_PEERS = 1024;
/** Names remembered per association, and for how long. */
const MAX_NAMES = 256;
const NAME_TTL_MS = 60_000;

/** What a relay reports to its owner. */
export interface UdpRelayHooks {
  bytes(direction: Direction, n: number): void;
  /** A datagram was dropped (policy, DNS, socket error); for debug logs. */
  dropped(why: string): void;
  closed(): void;
  now(): number;
}

/** Binds the association's sockets (tests inject failures). */
export type UdpBinder = (options: BindUdpOptions) => Promise<UdpSocket>;

/** A UDP association for one accepted udp stream. */
export class UdpRelay {
  readonly stream: MuxStream;
  lastActivity: number;

  readonly #settings: EgressSettings;
  readonly #hooks: UdpRelayHooks;
  readonly #sockets = new Map<4 | 6, UdpSocket>();
  readonly #peers = new Map<string, true>();
  readonly #names = new Map<string, { addresses: string[]; expires: number }>();
  #closed = false;

  private constructor(stream: MuxStream, settings: EgressSettings, hooks: UdpRelayHooks) {
    this.stream = stream;
    this.#settings = settings;
    this.#hooks = hooks;
    this.lastActivity = hooks.now();
  }

  /**
   * Binds the sockets (IPv4, and IPv6 where the host has it), accepts the stream and starts
   * relaying. Resolves null, having sent OPEN_FAIL, when no socket can be bound.
   */
  static async open(stream: MuxStream, settings: EgressSettings, hooks: UdpRelayHooks, bind: UdpBinder = bindUdp): Promise<UdpRelay | null> {
    const relay = new UdpRelay(stream, settings, hooks);
    const bound = await Promise.allSettled([bind({ family: 4 }), bind({ family: 6 })]);
    for (const b of bound) if (b.status === 'fulfilled') relay.#attach(b.value);
    if (relay.#sockets.size === 0) return null;
    return relay;
  }

  /** Accepts the stream and starts relaying (call once, after open()). */
  start(): void {
    this.stream.accept();
    this.stream.onDatagram((address, payload) => void this.#outbound(address, payload));
    void this.stream.closed.then(() => this.#shutdown());
    void this.#watchFin();
  }

  /** Ends the association with RESET(code). */
  abort(code: (typeof CloseCode)[keyof typeof CloseCode]): void {
    this.stream.reset(code);
    this.#shutdown();
  }

  #attach(socket: UdpSocket): void {
    this.#sockets.set(socket.family, socket);
    socket.onError((err) => this.#hooks.dropped(err.message));
    socket.onMessage((data, from) => {
      if (this.#closed || !this.#peers.has(canonical(from.address))) return;
      this.lastActivity = this.#hooks.now();
      if (this.stream.sendDatagram(toEndpoint(from.address, from.port), data)) this.#hooks.bytes('down', data.byteLength);
      else this.#hooks.dropped('link send queue');
    });
  }

  async #watchFin(): Promise<void> {
    // DATA has no meaning on a udp stream; reading only discovers the opener's FIN.
    try {
      while ((await this.stream.read()) !== null);
      this.stream.end();
    } catch {
      // RESET or link loss: #shutdown runs from stream.closed.
    }
  }

  async #outbound(destination: Endpoint, payload: Uint8Array): Promise<void> {
    if (this.#closed) return;
    this.lastActivity = this.#hooks.now();
    if (destination.port === 0) return this.#hooks.dropped('port 0');
    const address = await this.#destination(destination);
    if (address === null || this.#closed) return;
    const family = parseIP(address)?.family ?? 4;
    const socket = this.#sockets.get(family) ?? (family === 4 ? this.#sockets.get(6) : undefined);
    if (socket === undefined) return this.#hooks.dropped(`no IPv${family} socket`);
    this.#remember(address);
    // The runtime takes the bytes without copying; the payload is a view of a decrypted
    // message that nothing else reuses.
    socket.send(payload, destination.port, address);
    this.#hooks.bytes('up', payload.byteLength);
  }

  async #destination(destination: Endpoint): Promise<string | null> {
    if (destination.addressType !== AddressType.DOMAIN) {
      const decision = this.#settings.policy.check(destination.host);
      if (!decision.allowed) this.#hooks.dropped(`policy ${decision.reason}`);
      return decision.allowed ? destination.host : null;
    }
    const now = this.#hooks.now();
    const cached = this.#names.get(destination.host);
    if (cached !== undefined && cached.expires > now) return cached.addresses[0] ?? null;
    const result = await resolveAllowed(destination, this.#settings);
    if (!result.ok) {
      this.#hooks.dropped(`${result.failure.label} ${result.failure.detail}`);
      return null;
    }
    if (this.#names.size >= MAX_NAMES) this.#names.delete(this.#names.keys().next().value!);
    this.#names.set(destination.host, { addresses: result.addresses, expires: now + NAME_TTL_MS });
    return result.addresses[0] ?? null;
  }

  #remember(address: string): void {
    const key = canonical(address);
    this.#peers.delete(key);
    this.#peers.set(key, true);
    if (this.#peers.size > MAX_PEERS) this.#peers.delete(this.#peers.keys().next().value!);
  }

  #shutdown(): void {
    if (this.#closed) return;
    this.#closed = true;
    const sockets = [...this.#sockets.values()];
    this.#sockets.clear();
    void Promise.allSettled(sockets.map((s) => s.close())).then(() => this.#hooks.closed());
  }
}

/** One spelling per address: IPv4-mapped IPv6 (from a dual-stack socket) as plain IPv4. */
function canonical(address: string): string {
  const ep = toEndpoint(address, 0);
  if (ep.addressType === AddressType.IPV6 && ep.host.startsWith('::ffff:') && ep.host.includes('.')) return ep.host.slice(7);
  return ep.host;
}

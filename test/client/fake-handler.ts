/**
 * A test-side handler: the real secure channel (Noise IK responder) and a MuxSession acceptor
 * on a real WebSocket server, answering each OPEN by dialing the target itself over local TCP
 * (or relaying UDP), so the client can be tested end to end without the handler and exit
 * roles. `verdicts` refuses chosen domains with chosen OPEN_FAIL reasons; `freeze()` makes the
 * handler go silent (reads nothing, answers nothing) to look like a dead peer.
 */
import { absorbThenClose, acceptSession, type HelloTemplate } from '../../shared/channel/index.ts';
import { generatePrivateKey } from '../../shared/crypto/keys.ts';
import { ReplayGuard } from '../../shared/crypto/replay-guard.ts';
import { StaticKey } from '../../shared/crypto/static-key.ts';
import { ErrorCode, hasCode } from '../../shared/errors.ts';
import { muxOptionsFromHellos } from '../../shared/mux/hellos.ts';
import { MuxSession } from '../../shared/mux/session.ts';
import type { MuxStream } from '../../shared/mux/stream.ts';
import type { OpenRequest } from '../../shared/mux/options.ts';
import { toEndpoint } from '../../shared/protocol/address.ts';
import { OpenFailReason, type OpenFailReasonValue } from '../../shared/protocol/codes.ts';
import { AddressType, Network } from '../../shared/protocol/constants.ts';
import { Capability, PaddingPolicy, Role } from '../../shared/protocol/hello.ts';
import { resolveHost } from '../../shared/runtime/dns.ts';
import { serve, type HttpServer } from '../../shared/runtime/http-server.ts';
import { dialTcp } from '../../shared/runtime/tcp.ts';
import { bindUdp } from '../../shared/runtime/udp.ts';
import type { WsConnection } from '../../shared/runtime/websocket.ts';
import { bridge } from '../../client/bridge.ts';

/** Options of startFakeHandler(). */
export interface FakeHandlerOptions {
  /** Users allowed in (their static public keys). */
  users: Uint8Array[];
  /** Cluster key; a fresh one by default. */
  clusterKey?: StaticKey;
  path?: string;
  tls?: { certFile: string; keyFile: string };
  /** Advertise the UDP capability (default true). */
  udp?: boolean;
  /** Domain name -> reason the OPEN is refused with. */
  verdicts?: Record<string, OpenFailReasonValue>;
}

/** A running fake handler. */
export interface FakeHandler {
  readonly url: string;
  readonly port: number;
  readonly clusterPublicKey: Uint8Array;
  /** Sessions accepted so far. */
  readonly sessionsAccepted: number;
  /** OPENs received so far. */
  readonly opens: number;
  /** Sessions open now. */
  readonly sessionsOpen: number;
  /** TCP connections to destinations whose relay has not finished. */
  readonly egressOpen: number;
  /** Stops reading from and writing to every open session, as a dead peer would. */
  freeze(): void;
  /** Resolves once `n` sessions were accepted in total (bounded by the caller). */
  waitSessions(n: number): Promise<void>;
  close(): Promise<void>;
}

function handlerHello(udp: boolean): HelloTemplate {
  return {
    role: Role.HANDLER,
    paddingPolicy: PaddingPolicy.NONE,
    capabilities: udp ? Capability.UDP : 0,
    maxFrameLength: 16384,
    streamWindow: 256 * 1024,
    sessionWindow: 4 << 20,
    maxStreams: 512,
    nodeId: '',
    region: '',
  };
}

function failureOf(err: unknown): OpenFailReasonValue {
  const sys = (err as { cause?: { code?: string } }).cause?.code;
  if (sys === 'ECONNREFUSED') return OpenFailReason.CONNECTION_REFUSED;
  if (sys === 'EHOSTUNREACH') return OpenFailReason.HOST_UNREACHABLE;
  if (sys === 'ENETUNREACH') return OpenFailReason.NETWORK_UNREACHABLE;
  if (hasCode(err, ErrorCode.DNS_FAILED)) return OpenFailReason.DNS_FAILURE;
  if (hasCode(err, ErrorCode.TIMEOUT)) return OpenFailReason.TIMEOUT;
  return OpenFailReason.GENERAL_FAILURE;
}

async function resolveFirst(host: string, type: number): Promise<string> {
  if (type !== AddressType.DOMAIN) return host;
  const ips = await resolveHost(host, { prefer: 4, timeoutMs: 2000 });
  return ips[0] as string;
}

async function answerTcp(stream: MuxStream, request: OpenRequest, counter: { n: number }): Promise<void> {
  let conn;
  try {
    const ip = await resolveFirst(request.address.host, request.address.addressType);
    conn = await dialTcp(ip, request.address.port, { timeoutMs: 2000 });
  } catch (err) {
    stream.reject(failureOf(err));
    return;
  }
  stream.accept();
  conn.pause();
  counter.n++;
  try {
    await bridge(conn, stream);
  } finally {
    counter.n--;
  }
}

async function answerUdp(stream: MuxStream): Promise<void> {
  const udp = await bindUdp({ hostname: '127.0.0.1', port: 0 });
  stream.accept();
  udp.onError(() => {});
  udp.onMessage((data, from) => stream.sendDatagram(toEndpoint(from.address, from.port), data.slice()));
  stream.onDatagram((address, payload) => {
    void resolveFirst(address.host, address.addressType).then((ip) => udp.send(payload.slice(), address.port, ip), () => {});
  });
  await stream.closed;
  await udp.close();
}

/** Starts a fake handler on 127.0.0.1 (port 0). */
export async function startFakeHandler(o: FakeHandlerOptions): Promise<FakeHandler> {
  const clusterKey = o.clusterKey ?? StaticKey.fromPrivate(generatePrivateKey());
  const path = o.path ?? '/tunnel-test';
  const udp = o.udp ?? true;
  const replayGuard = new ReplayGuard();
  const live = new Map<MuxSession, WsConnection>();
  let accepted = 0;
  let opens = 0;
  let frozen = false;
  const egress = { n: 0 };
  const sessionWaiters: Array<{ n: number; resolve: () => void }> = [];
  const allowed = (pk: Uint8Array): boolean => o.users.some((u) => u.length === pk.length && u.every((b, i) => b === pk[i]));

  const onOpen = (stream: MuxStream, request: OpenRequest): void => {
    opens++;
    const verdict = request.address.addressType === AddressType.DOMAIN ? o.verdicts?.[request.address.host] : undefined;
    if (verdict !== undefined) {
      stream.reject(verdict);
      return;
    }
    const work = request.network === Network.UDP ? answerUdp(stream) : answerTcp(stream, request, egress);
    work.catch(() => stream.reset());
  };

  const server: HttpServer = await serve({
    hostname: '127.0.0.1',
    port: 0,
    ...(o.tls === undefined ? {} : { tls: o.tls }),
    fetch: () => new Response('nothing here\n', { status: 404 }),
    websocket: {
      path,
      onOpen: (ws) => {
        if (frozen) {
          ws.pause();
          return;
        }
        void acceptSession(ws, {
          staticKey: clusterKey,
          hello: handlerHello(udp),
          replayGuard,
          timeoutMs: 5000,
          authorize: (pk) => allowed(pk),
        }).then((outcome) => {
          if (!outcome.ok) {
            void absorbThenClose(ws, 200);
            return;
          }
          const session = new MuxSession(outcome.channel, {
            role: 'acceptor',
            keepaliveIntervalMs: 0,
            ...muxOptionsFromHellos(outcome.localHello, outcome.remoteHello),
            onOpen,
          });
          accepted++;
          live.set(session, ws);
          void session.closed.then(() => live.delete(session));
          for (const w of [...sessionWaiters]) {
            if (accepted >= w.n) {
              sessionWaiters.splice(sessionWaiters.indexOf(w), 1);
              w.resolve();
            }
          }
        });
      },
    },
  });

  const scheme = o.tls === undefined ? 'ws' : 'wss';
  return {
    url: `${scheme}://127.0.0.1:${server.port}${path}`,
    port: server.port,
    clusterPublicKey: clusterKey.publicKey,
    get sessionsAccepted() {
      return accepted;
    },
    get opens() {
      return opens;
    },
    get sessionsOpen() {
      return live.size;
    },
    get egressOpen() {
      return egress.n;
    },
    freeze() {
      frozen = true;
      for (const ws of live.values()) ws.pause();
    },
    waitSessions(n: number): Promise<void> {
      if (accepted >= n) return Promise.resolve();
      return new Promise((resolve) => sessionWaiters.push({ n, resolve }));
    },
    async close() {
      for (const [session, ws] of live) {
        session.close();
        ws.terminate();
      }
      await server.close({ graceMs: 0 });
    },
  };
}

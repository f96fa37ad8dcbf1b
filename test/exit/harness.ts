/**
 * Test side of the exit's links: keys, configs, a KK initiator that plays the handler (dial
 * mode), a KK responder that plays the handler for reverse mode, and loopback targets. None of
 * it depends on the real handler.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import { connectLink, type HelloTemplate } from '../../shared/channel/index.ts';
import { respond } from '../../shared/channel/handshake.ts';
import { encodeBase64Url } from '../../shared/config/base64url.ts';
import { validateConfig, type ExitConfig } from '../../shared/config/index.ts';
import { derivePublicKey, generatePrivateKey } from '../../shared/crypto/keys.ts';
import { ReplayGuard } from '../../shared/crypto/replay-guard.ts';
import { createLinkResponder } from '../../shared/crypto/session.ts';
import { StaticKey } from '../../shared/crypto/static-key.ts';
import { createLogger, type Logger } from '../../shared/log.ts';
import { muxOptionsFromHellos } from '../../shared/mux/hellos.ts';
import { MuxSession } from '../../shared/mux/session.ts';
import type { MuxStream } from '../../shared/mux/stream.ts';
import { toEndpoint } from '../../shared/protocol/address.ts';
import { Network } from '../../shared/protocol/constants.ts';
import { Capability, PaddingPolicy, Role } from '../../shared/protocol/hello.ts';
import { dialWebSocket, serve, type ClientTlsOptions, type HttpServer, type WsConnection } from '../../shared/runtime/index.ts';
import { within } from '../shared/runtime/fixtures.ts';

export { within };

/** The secret link path the test exits listen on. */
export const LINK_PATH = '/l1nk-7f3a';

/** Key material of one test cluster: the handler cluster key and one exit key. */
export interface TestKeys {
  clusterPrivate: Uint8Array;
  clusterPublic: Uint8Array;
  exitPrivate: Uint8Array;
  exitPublic: Uint8Array;
}

/** Fresh keys. */
export function makeKeys(): TestKeys {
  const clusterPrivate = generatePrivateKey();
  const exitPrivate = generatePrivateKey();
  return { clusterPrivate, clusterPublic: derivePublicKey(clusterPrivate), exitPrivate, exitPublic: derivePublicKey(exitPrivate) };
}

/** An exit config on loopback with ephemeral ports; `extra` is merged over the top level. */
export function exitConfig(keys: TestKeys, extra: Record<string, unknown> = {}): ExitConfig {
  return validateConfig('exit', {
    id: 'x-test',
    region: 'us',
    key: { privateKey: encodeBase64Url(keys.exitPrivate) },
    clusterPublicKey: encodeBase64Url(keys.clusterPublic),
    listen: { host: '127.0.0.1', port: 0, path: LINK_PATH },
    status: { host: '127.0.0.1', port: 0 },
    dns: { timeout: '3s' },
    log: { level: 'silent' },
    ...extra,
  });
}

/** A logger that keeps its JSON lines in memory. */
export function captureLogger(level: 'debug' | 'info' = 'info'): { logger: Logger; lines: () => Record<string, unknown>[] } {
  const raw: string[] = [];
  const logger = createLogger({ role: 'exit', node: 'x-test', level, format: 'json', destination: { write: (s: string) => void raw.push(s) } });
  return { logger, lines: () => raw.flatMap((s) => s.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>)) };
}

/** A silent logger. */
export function quietLogger(): Logger {
  return createLogger({ role: 'exit', level: 'silent', format: 'json' });
}

/** The handler's hello as a test handler sends it. */
export function handlerHello(): HelloTemplate {
  return {
    role: Role.HANDLER,
    paddingPolicy: PaddingPolicy.NONE,
    capabilities: Capability.UDP,
    maxFrameLength: 16384,
    streamWindow: 256 * 1024,
    sessionWindow: 16 * 1024 * 1024,
    maxStreams: 16384,
    nodeId: 'h-test',
    region: '',
  };
}

function handlerSession(est: { channel: ConstructorParameters<typeof MuxSession>[0]; localHello: Parameters<typeof muxOptionsFromHellos>[0]; remoteHello: Parameters<typeof muxOptionsFromHellos>[1] }): MuxSession {
  return new MuxSession(est.channel, {
    role: 'opener',
    allowTags: true,
    keepaliveIntervalMs: 0,
    openTimeoutMs: 20_000,
    ...muxOptionsFromHellos(est.localHello, est.remoteHello),
  });
}

/** Options of dialLink(). */
export interface DialLinkOptions {
  /** The handler's cluster private key (default: the right one). */
  clusterPrivate?: Uint8Array;
  /** Dial wss:// with this verification instead of ws://. */
  tls?: ClientTlsOptions;
}

/** Dial mode: connects to the exit's link port as the handler would (KK initiator, stream opener). */
export async function dialLink(port: number, keys: TestKeys, options: DialLinkOptions = {}): Promise<MuxSession> {
  const scheme = options.tls === undefined ? 'ws' : 'wss';
  const ws = await dialWebSocket(`${scheme}://127.0.0.1:${port}${LINK_PATH}`, { timeoutMs: 5_000, ...(options.tls === undefined ? {} : { tls: options.tls }) });
  const est = await connectLink(ws, {
    staticKey: StaticKey.fromPrivate(options.clusterPrivate ?? keys.clusterPrivate),
    remoteStatic: keys.exitPublic,
    hello: handlerHello(),
    timeoutMs: 5_000,
  });
  return handlerSession(est);
}

/** A handler-side listener for reverse mode: KK responder that accepts the exit's key. */
export interface ReverseHandler {
  url: string;
  /** Sockets upgraded so far (each is one dial attempt that reached the path). */
  upgrades: number;
  /** Handshakes refused so far. */
  refusals: number;
  /** Resolves with the next established link session. */
  nextSession(): Promise<MuxSession>;
  close(): Promise<void>;
}

/** Starts a reverse-mode handler listener on 127.0.0.1 with the given cluster key. */
export async function startReverseHandler(keys: TestKeys, clusterPrivate = keys.clusterPrivate): Promise<ReverseHandler> {
  const staticKey = StaticKey.fromPrivate(clusterPrivate);
  const replayGuard = new ReplayGuard();
  const sessions: MuxSession[] = [];
  const waiters: Array<(s: MuxSession) => void> = [];
  const live = new Set<MuxSession>();
  const sockets = new Set<WsConnection>();
  const state = { upgrades: 0, refusals: 0 };
  const server: HttpServer = await serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: () => new Response('not found', { status: 404 }),
    websocket: {
      path: '/links',
      onOpen: (ws) => {
        state.upgrades++;
        sockets.add(ws);
        ws.onClose(() => sockets.delete(ws));
        void respond(ws, {
          states: [createLinkResponder({ staticKey, remoteStatic: keys.exitPublic })],
          expectRole: Role.EXIT,
          hello: handlerHello(),
          authorize: () => true,
          replayGuard,
          timeoutMs: 2_000,
        }).then((outcome) => {
          if (!outcome.ok) {
            state.refusals++;
            ws.terminate();
            return;
          }
          const session = handlerSession(outcome);
          live.add(session);
          void session.closed.then(() => live.delete(session));
          const w = waiters.shift();
          if (w !== undefined) w(session);
          else sessions.push(session);
        });
      },
    },
  });
  return {
    url: `ws://127.0.0.1:${server.port}/links`,
    get upgrades() {
      return state.upgrades;
    },
    get refusals() {
      return state.refusals;
    },
    nextSession() {
      const s = sessions.shift();
      if (s !== undefined) return Promise.resolve(s);
      return new Promise((resolve) => waiters.push(resolve));
    },
    async close() {
      for (const s of live) s.close();
      for (const ws of sockets) ws.terminate();
      await server.close({ graceMs: 0 });
    },
  };
}

/** Opens a tcp stream to host:port on a link. */
export function openTcp(session: MuxSession, host: string, port: number, tag?: Uint8Array): MuxStream {
  return session.open({ network: Network.TCP, address: toEndpoint(host, port), ...(tag === undefined ? {} : { tag }) });
}

/** The OPEN_FAIL reason a stream's `opened` rejected with (throws if it opened). */
export async function openFailReason(stream: MuxStream): Promise<number> {
  try {
    await within(stream.opened, 15_000, 'OPEN answer');
  } catch (err) {
    const reason = (err as { reason?: number }).reason;
    if (typeof reason === 'number') return reason;
    throw err;
  }
  throw new Error('stream opened, expected OPEN_FAIL');
}

/** Reads a stream to its FIN. */
export async function readAll(stream: MuxStream, limit = 64 << 20): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  let n = 0;
  for await (const chunk of stream) {
    parts.push(chunk.slice());
    n += chunk.byteLength;
    if (n > limit) throw new Error(`read more than ${limit} bytes`);
  }
  return Buffer.concat(parts);
}

/** SHA-256 hex. */
export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Deterministic pseudo-random bytes (xorshift32), so a corruption anywhere changes the hash. */
export function patternBytes(n: number, seed = 0x9e3779b9): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
    if (i + 1 < n) out[i + 1] = (x >>> 8) & 0xff;
    if (i + 2 < n) out[i + 2] = (x >>> 16) & 0xff;
    if (i + 3 < n) out[i + 3] = (x >>> 24) & 0xff;
  }
  return out;
}

/** A TCP server on 127.0.0.1 whose connections are handed to `onConnection`. */
export async function tcpServer(onConnection: (socket: net.Socket) => void): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** An echo server: writes back what it reads, half-closes after the client's FIN. */
export function echoServer(): ReturnType<typeof tcpServer> {
  return tcpServer((socket) => socket.pipe(socket));
}

/** A port on 127.0.0.1 with nothing listening (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = await tcpServer(() => {});
  await s.close();
  return s.port;
}

/** Polls `check` every `everyMs` until it returns true; bounded by `maxPolls`. */
export async function until(check: () => boolean, what: string, maxPolls = 500, everyMs = 20): Promise<void> {
  for (let i = 0; i < maxPolls; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`${what} did not happen within ${maxPolls} polls`);
}

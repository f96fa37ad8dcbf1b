/**
 * Test-side fakes for the handler tests: key pairs, a handler config on 127.0.0.1:0, a fake
 * exit (Noise KK responder + stream acceptor with scripted behaviour, dial mode), a fake
 * reverse-mode exit (KK initiator towards links.path), a test client (Noise IK initiator +
 * MuxSession opener), raw TCP helpers for byte-exact probes, and bounded waits.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acceptLink, connectSession, type HelloTemplate } from '../../../shared/channel/index.ts';
import { initiate } from '../../../shared/channel/handshake.ts';
import type { HandlerConfig } from '../../../shared/config/handler.ts';
import { validateConfig } from '../../../shared/config/load.ts';
import { derivePublicKey, encodeKey, generatePrivateKey } from '../../../shared/crypto/keys.ts';
import { ReplayGuard } from '../../../shared/crypto/replay-guard.ts';
import { createLinkInitiator } from '../../../shared/crypto/session.ts';
import { StaticKey } from '../../../shared/crypto/static-key.ts';
import { createLogger, type Logger } from '../../../shared/log.ts';
import { muxOptionsFromHellos } from '../../../shared/mux/hellos.ts';
import { MuxSession } from '../../../shared/mux/session.ts';
import type { OpenRequest } from '../../../shared/mux/options.ts';
import type { MuxStream } from '../../../shared/mux/stream.ts';
import { echoThrough } from '../../support/streams.ts';
import { AddressType, Network } from '../../../shared/protocol/constants.ts';
import { Capability, PaddingPolicy, Role } from '../../../shared/protocol/hello.ts';
import { serve, type HttpServer } from '../../../shared/runtime/http-server.ts';
import type { WsConnection } from '../../../shared/runtime/websocket.ts';
import { dialWebSocket } from '../../../shared/runtime/ws-client.ts';

/** A key pair as raw bytes and as config text. */
export interface TestKey {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
  privateText: string;
  publicText: string;
}

/** A fresh X25519 key pair. */
export function testKey(): TestKey {
  const privateKey = generatePrivateKey();
  const publicKey = derivePublicKey(privateKey);
  return { privateKey, publicKey, privateText: encodeKey(privateKey), publicText: encodeKey(publicKey) };
}

/** The cluster key every test handler uses. */
export const CLUSTER = testKey();
/** The secret session path of test handlers. */
export const SECRET_PATH = '/assets/ws-7f3a';
/** The reverse-link path of test handlers. */
export const LINKS_PATH = '/assets/lk-91c2';

/** A logger that writes nothing (set APFSDS_TEST_LOG=debug to see the handler's lines). */
export const quietLogger: Logger = createLogger({
  role: 'handler',
  node: 'test',
  level: (globalThis.process?.env?.['APFSDS_TEST_LOG'] as 'debug' | undefined) ?? 'silent',
  format: 'json',
});

/** Raft data dirs of test handlers (a cluster of one each), removed when the process exits. */
const RAFT_ROOT = mkdtempSync(join(tmpdir(), 'apfsds-handler-raft-'));
const removeRaftRoot = (): void => rmSync(RAFT_ROOT, { recursive: true, force: true });
process.once('exit', removeRaftRoot);
// Deno's test runner ends without process 'exit'; it dispatches the web 'unload' event.
(globalThis as { addEventListener?: (type: string, fn: () => void) => void }).addEventListener?.('unload', removeRaftRoot);
let raftDirs = 0;

/** A validated handler config for tests: loopback, port 0, admin off, fast heartbeats, its own raft dir. */
export function handlerConfig(doc: Record<string, unknown> = {}): HandlerConfig {
  const base: Record<string, unknown> = {
    nodeId: 'h1',
    // 10 ms ticks: a fresh single node elects itself after one election timeout (100-200 ms).
    raft: { dataDir: join(RAFT_ROOT, String(++raftDirs)), tickInterval: 10 },
    listen: { host: '127.0.0.1', port: 0 },
    path: SECRET_PATH,
    clusterKey: { privateKey: CLUSTER.privateText },
    admin: { enabled: false },
    links: { poolSize: 1, path: LINKS_PATH, dialTimeout: 5000 },
    health: { heartbeatInterval: 200, heartbeatTimeout: 400, maxMissedHeartbeats: 2 },
    limits: { handshakeTimeout: 2000, userBandwidth: { rate: 1_000_000_000, burst: 64 << 20 }, connectionRate: { rate: 1000, burst: 1000 } },
    log: { level: 'silent' },
  };
  const merged: Record<string, unknown> = { ...base, ...doc };
  for (const k of ['links', 'health', 'limits'] as const) {
    if (doc[k] !== undefined) merged[k] = { ...(base[k] as object), ...(doc[k] as object) };
  }
  return validateConfig('handler', merged);
}

/** A user entry for handlerConfig({ users: [...] }). */
export function userEntry(id: string, key: TestKey, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, publicKey: key.publicText, ...extra };
}

/** An exit entry for handlerConfig({ exits: [...] }). */
export function exitEntry(exit: FakeExit, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: exit.id, url: exit.url, region: exit.region, publicKey: exit.key.publicText, ...extra };
}

/** Rejects if `promise` has not settled within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** Polls `test` every 20 ms until true, at most `ms`. */
export async function eventually(test: () => boolean, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  while (!test()) {
    if (Date.now() > until) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** SHA-256 hex of some bytes. */
export const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Deterministic test bytes. */
export function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 131 + seed * 17 + (i >> 9)) & 0xff;
  return out;
}

/** A TCP OPEN request to a documentation address (fake exits never dial). */
export function tcpRequest(port = 443): OpenRequest {
  return { network: Network.TCP, address: { addressType: AddressType.IPV4, host: '192.0.2.10', port } };
}

/** What a fake exit does with one stream. */
export type ExitBehaviour = (stream: MuxStream, request: OpenRequest, exit: FakeExit) => void;

/** Accept and echo every byte (and every datagram, to its source) back, then FIN after the handler's FIN. */
export const echo: ExitBehaviour = (stream, request) => {
  stream.accept();
  if (request.network === Network.UDP) stream.onDatagram((address, payload) => stream.sendDatagram(address, payload));
  void (async () => {
    try {
      for await (const chunk of stream) await stream.write(chunk);
      stream.end();
    } catch {
      // Reset by the handler: nothing to do.
    }
  })();
};

/** A fake exit in dial mode. */
export interface FakeExit {
  id: string;
  region: string;
  key: TestKey;
  url: string;
  /** OPENs seen, in order. */
  opens: OpenRequest[];
  /** Live link sessions. */
  sessions: Set<MuxSession>;
  behaviour: ExitBehaviour;
  /** New link upgrades are dropped while true. */
  refuseLinks: boolean;
  /** Stops reading every live link (a frozen exit: heartbeats go unanswered). */
  freeze(): void;
  /** Sends GOAWAY on every link. */
  goAway(): void;
  close(): Promise<void>;
}

function exitHello(id: string, region: string, capabilities = Capability.UDP): HelloTemplate {
  return {
    role: Role.EXIT,
    paddingPolicy: PaddingPolicy.NONE,
    capabilities,
    maxFrameLength: 16384,
    streamWindow: 256 * 1024,
    sessionWindow: 16 << 20,
    maxStreams: 16384,
    nodeId: id,
    region,
  };
}

/** Runs an exit-side mux over an established link. */
function exitMux(exit: FakeExit, est: { channel: ConstructorParameters<typeof MuxSession>[0]; localHello: Parameters<typeof muxOptionsFromHellos>[0]; remoteHello: Parameters<typeof muxOptionsFromHellos>[1] }): MuxSession {
  const session = new MuxSession(est.channel, {
    role: 'acceptor',
    ...muxOptionsFromHellos(est.localHello, est.remoteHello),
    allowTags: true,
    keepaliveIntervalMs: 0,
    onOpen: (stream, request) => {
      exit.opens.push(request);
      exit.behaviour(stream, request, exit);
    },
  });
  exit.sessions.add(session);
  void session.closed.then(() => exit.sessions.delete(session));
  return session;
}

/** Starts a fake dial-mode exit on 127.0.0.1. */
export async function startFakeExit(id: string, region: string, behaviour: ExitBehaviour = echo): Promise<FakeExit> {
  const key = testKey();
  const staticKey = StaticKey.fromPrivate(key.privateKey);
  const replayGuard = new ReplayGuard();
  const sockets = new Set<WsConnection>();
  let server: HttpServer | undefined;
  const exit: FakeExit = {
    id,
    region,
    key,
    url: '',
    opens: [],
    sessions: new Set(),
    behaviour,
    refuseLinks: false,
    freeze() {
      for (const ws of sockets) ws.pause();
    },
    goAway() {
      for (const s of exit.sessions) s.goAway();
    },
    async close() {
      exit.refuseLinks = true;
      for (const s of exit.sessions) s.close();
      for (const ws of sockets) ws.terminate();
      await server?.close({ graceMs: 0 });
    },
  };
  server = await serve({
    hostname: '127.0.0.1',
    port: 0,
    fetch: () => new Response('not here', { status: 404 }),
    websocket: {
      path: '/link',
      onOpen: (ws) => {
        if (exit.refuseLinks) {
          ws.terminate();
          return;
        }
        sockets.add(ws);
        ws.onClose(() => sockets.delete(ws));
        void acceptLink(ws, { staticKey, remoteStatic: CLUSTER.publicKey, hello: exitHello(id, region), replayGuard, timeoutMs: 5000 }).then((o) => {
          if (!o.ok) {
            ws.terminate();
            return;
          }
          exitMux(exit, o);
        });
      },
    },
  });
  exit.url = `ws://127.0.0.1:${server.port}/link`;
  return exit;
}

/** A fake reverse-mode exit: dials the handler's links.path and initiates KK. */
export async function dialReverseExit(
  handlerPort: number,
  exit: Omit<FakeExit, 'url' | 'close' | 'freeze' | 'goAway' | 'refuseLinks'>,
  path = LINKS_PATH,
): Promise<MuxSession> {
  const ws = await dialWebSocket(`ws://127.0.0.1:${handlerPort}${path}`, { timeoutMs: 5000 });
  const staticKey = StaticKey.fromPrivate(exit.key.privateKey);
  const state = createLinkInitiator({ staticKey, remoteStatic: CLUSTER.publicKey });
  const est = await initiate(ws, state, exitHello(exit.id, exit.region), Role.HANDLER, { timeoutMs: 3000 });
  return exitMux(exit as FakeExit, est);
}

/** A test client session to a handler. */
export interface TestClient {
  session: MuxSession;
  close(): void;
}

/** Dials the handler's secret path and runs Noise IK as `user`. */
export async function connectClient(
  port: number,
  user: TestKey,
  options: { region?: string; timeoutMs?: number; path?: string; ignorePeerStreamLimit?: boolean } = {},
): Promise<TestClient> {
  const ws = await dialWebSocket(`ws://127.0.0.1:${port}${options.path ?? SECRET_PATH}`, { timeoutMs: 5000 });
  const est = await connectSession(ws, {
    staticKey: StaticKey.fromPrivate(user.privateKey),
    remoteStatic: CLUSTER.publicKey,
    hello: {
      role: Role.CLIENT,
      paddingPolicy: PaddingPolicy.NONE,
      capabilities: Capability.UDP,
      maxFrameLength: 16384,
      streamWindow: 256 * 1024,
      sessionWindow: 1 << 20,
      maxStreams: 512,
      nodeId: '',
      region: options.region ?? '',
    },
    timeoutMs: options.timeoutMs ?? 5000,
  });
  const mux = muxOptionsFromHellos(est.localHello, est.remoteHello);
  // A misbehaving client that opens past the handler's maxStreams, to test the handler's own check.
  if (options.ignorePeerStreamLimit === true) mux.remote = { ...mux.remote, maxStreams: 1 << 20 };
  const session = new MuxSession(est.channel, { role: 'opener', ...mux, keepaliveIntervalMs: 0 });
  return { session, close: () => session.close() };
}

/** Opens a stream, sends `data`, FINs, and returns everything read back. */
export async function roundTrip(session: MuxSession, data: Uint8Array, request: OpenRequest = tcpRequest()): Promise<Uint8Array> {
  const stream = session.open(request);
  await stream.opened;
  return echoThrough(stream, data, 16384);
}

export { echoThrough };

/** A raw TCP connection that records every byte and when it closed. */
export interface RawSocket {
  socket: net.Socket;
  received(): Buffer;
  /** Resolves when the socket is fully closed. */
  closed: Promise<void>;
  waitFor(marker: string, ms: number): Promise<void>;
}

/** Connects to 127.0.0.1:port. */
export async function rawConnect(port: number): Promise<RawSocket> {
  const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: false });
  await within(
    new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    }),
    5000,
    'raw connect',
  );
  const chunks: Buffer[] = [];
  let notify: (() => void) | null = null;
  socket.on('data', (c: Buffer) => {
    chunks.push(c);
    notify?.();
  });
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const received = (): Buffer => Buffer.concat(chunks);
  return {
    socket,
    received,
    closed,
    waitFor(marker, ms) {
      return within(
        new Promise<void>((resolve) => {
          const check = (): void => {
            if (received().includes(marker)) {
              notify = null;
              resolve();
            }
          };
          notify = check;
          check();
        }),
        ms,
        `bytes ${JSON.stringify(marker)}`,
      );
    },
  };
}

/** A well-formed WebSocket upgrade request (RFC 6455 section 1.3 sample key). */
export function upgradeRequest(path: string, extra = ''): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
    `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`
  );
}

/** A masked binary WebSocket frame (RFC 6455 section 5.2), as a client must send. */
export function wsFrame(payload: Uint8Array): Buffer {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x82, 0x80 | len]) : len < 65536 ? Buffer.from([0x82, 0x80 | 126, len >> 8, len & 0xff]) : null;
  if (head === null) throw new Error('test frames stay under 64 KiB');
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const body = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([head, mask, body]);
}

/** Bytes after the HTTP head of a 101 answer (what the server sent as WebSocket frames). */
export function afterHead(received: Buffer): Buffer {
  const end = received.indexOf('\r\n\r\n');
  return end < 0 ? Buffer.alloc(0) : received.subarray(end + 4);
}

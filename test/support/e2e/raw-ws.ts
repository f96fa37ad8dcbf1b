/**
 * Byte-level probing of the handler's public listener, the way a censor's scanner would:
 * raw TCP, a hand-written HTTP request or WebSocket upgrade, then hand-built frames, and a
 * record of every byte that comes back and how the connection ended. Also builds a genuine
 * Noise IK message 1 for a user key (for wrong-key and replay probes).
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { createSessionInitiator } from '../../../shared/crypto/session.ts';
import { StaticKey } from '../../../shared/crypto/static-key.ts';
import { decodeKey } from '../../../shared/crypto/keys.ts';
import { encodeHello, PaddingPolicy, Role } from '../../../shared/protocol/hello.ts';
import { deferred, within } from './wait.ts';

/** The sample key of RFC 6455 section 1.3: every upgrade uses it, so accept headers compare equal. */
export const SAMPLE_WS_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** A WebSocket upgrade request for `path`. */
export function upgradeRequest(path: string): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: probe/1.0\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
    `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${SAMPLE_WS_KEY}\r\n\r\n`
  );
}

/** A plain GET for `path` that asks the server to close afterwards. */
export function plainGet(path: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: probe/1.0\r\nAccept: */*\r\nConnection: close\r\n\r\n`;
}

/** One masked client-to-server binary frame (RFC 6455 section 5.2) carrying `payload`. */
export function wsBinaryFrame(payload: Uint8Array): Buffer {
  const len = payload.length;
  const header = len < 126 ? Buffer.from([0x82, 0x80 | len]) : len < 65536 ? Buffer.from([0x82, 0x80 | 126, len >> 8, len & 0xff]) : null;
  if (header === null) throw new RangeError('wsBinaryFrame() handles payloads below 64 KiB');
  const mask = randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] = body[i]! ^ mask[i & 3]!;
  return Buffer.concat([header, mask, body]);
}

/** What a probe saw. */
export interface ProbeRecord {
  /** The response head (up to and including the blank line), '' when none came. */
  head: string;
  /** Every byte after the head. */
  after: Buffer;
  /** fin: the server closed; reset: ECONNRESET; open: still open when we stopped listening. */
  end: 'fin' | 'reset' | 'open';
}

/** Options of probe(). */
export interface ProbeOptions {
  port: number;
  /** The request bytes sent at once. */
  request: string | Buffer;
  /** Sent once the response head arrived (e.g. frames after a 101). */
  then?: Buffer[];
  /** Stop listening this long after connecting (the connection is then destroyed). */
  listenMs: number;
  /** Stop listening early once the bytes after the head satisfy this (end is then 'open'). */
  until?: (after: Buffer) => boolean;
}

/** Connects, sends, records the answer until the server closes or `listenMs` passes. */
export async function probe(o: ProbeOptions): Promise<ProbeRecord> {
  const socket = net.connect({ host: '127.0.0.1', port: o.port, allowHalfOpen: true });
  const chunks: Buffer[] = [];
  const ended = deferred<'fin' | 'reset'>();
  let headSeen = false;
  const headArrived = deferred<void>();
  const satisfied = deferred<'open'>();
  socket.on('data', (c: Buffer) => {
    chunks.push(c);
    const all = Buffer.concat(chunks);
    const cut = all.indexOf('\r\n\r\n');
    if (!headSeen && cut >= 0) {
      headSeen = true;
      headArrived.resolve();
    }
    if (cut >= 0 && o.until?.(all.subarray(cut + 4))) satisfied.resolve('open');
  });
  socket.on('end', () => ended.resolve('fin'));
  socket.on('error', (err: NodeJS.ErrnoException) => ended.resolve(err.code === 'ECONNRESET' ? 'reset' : 'fin'));
  socket.on('close', () => ended.resolve('fin'));
  await within(new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  }), 5_000, 'probe connect');
  const started = Date.now();
  socket.write(o.request);
  if (o.then !== undefined && o.then.length > 0) {
    await Promise.race([headArrived.promise, ended.promise, new Promise((r) => setTimeout(r, o.listenMs))]);
    if (headSeen && !socket.destroyed) for (const f of o.then) socket.write(f);
  }
  const remaining = Math.max(0, o.listenMs - (Date.now() - started));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const end = await Promise.race([
    ended.promise,
    satisfied.promise,
    new Promise<'open'>((resolve) => {
      timer = setTimeout(() => resolve('open'), remaining);
    }),
  ]);
  clearTimeout(timer);
  socket.destroy();
  const all = Buffer.concat(chunks);
  const cut = all.indexOf('\r\n\r\n');
  return cut < 0 ? { head: '', after: all, end } : { head: all.subarray(0, cut + 4).toString('latin1'), after: all.subarray(cut + 4), end };
}

/** A response head or body with the Date header value replaced, so answers at different instants compare. */
export function normalize(text: string): string {
  return text.replace(/\r\ndate: [^\r]*/gi, '\r\nDate: X');
}

/** The first server-to-client WebSocket frame's payload in `bytes`, or undefined if incomplete. */
export function firstServerFrame(bytes: Buffer): Buffer | undefined {
  if (bytes.length < 2) return undefined;
  let len = bytes[1]! & 0x7f;
  let off = 2;
  if (len === 126) {
    if (bytes.length < 4) return undefined;
    len = bytes.readUInt16BE(2);
    off = 4;
  } else if (len === 127) {
    return undefined;
  }
  return bytes.length < off + len ? undefined : bytes.subarray(off, off + len);
}

/**
 * A genuine Noise IK message 1 (handshake payload = a client hello stamped now) from the user
 * key `privateKeyText` to the cluster key `clusterPublicText`.
 */
export function sessionMessage1(privateKeyText: string, clusterPublicText: string): Uint8Array {
  const state = createSessionInitiator({
    staticKey: StaticKey.fromPrivate(decodeKey(privateKeyText)),
    remoteStatic: decodeKey(clusterPublicText),
  });
  const hello = encodeHello({
    role: Role.CLIENT,
    paddingPolicy: PaddingPolicy.NONE,
    capabilities: 0,
    timestamp: Date.now(),
    maxFrameLength: 16_384,
    streamWindow: 262_144,
    sessionWindow: 4_194_304,
    maxStreams: 256,
    nodeId: '',
    region: '',
  });
  const message = state.writeMessage(hello).slice();
  state.destroy();
  return message;
}

/**
 * A small SOCKS5 client (RFC 1928, no authentication) for tests and benchmarks that need
 * more streams than spawning curl would allow: CONNECT to an IPv4, IPv6 or domain target
 * through the local proxy, then a plain socket; and an HTTP/1.1 GET over it that hashes the
 * body as it arrives.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { within } from './wait.ts';

/** A SOCKS5 reply other than success (REP field, RFC 1928 section 6). */
export class Socks5ReplyError extends Error {
  readonly reply: number;
  constructor(reply: number) {
    super(`SOCKS5 CONNECT refused with reply 0x${reply.toString(16).padStart(2, '0')}`);
    this.reply = reply;
  }
}

/** Reads exactly n bytes from a paused socket. */
function readExactly(socket: net.Socket, n: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      socket.off('readable', tryRead);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
    };
    const tryRead = (): void => {
      const b = socket.read(n) as Buffer | null;
      if (b === null) return;
      cleanup();
      if (b.length < n) reject(new Error(`SOCKS5 proxy closed after ${b.length} of ${n} bytes`));
      else resolve(b);
    };
    const onEnd = (): void => {
      cleanup();
      reject(new Error('SOCKS5 proxy closed the connection during the handshake'));
    };
    const onError = (err: Error): void => {
      cleanup();
      reject(err);
    };
    socket.on('readable', tryRead);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', onError);
    tryRead();
  });
}

function encodeTarget(host: string, port: number): Buffer {
  const portBytes = Buffer.from([port >> 8, port & 0xff]);
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (net.isIPv4(bare)) return Buffer.concat([Buffer.from([1, ...bare.split('.').map(Number)]), portBytes]);
  if (net.isIPv6(bare)) {
    const bytes = ipv6Bytes(bare);
    return Buffer.concat([Buffer.from([4]), bytes, portBytes]);
  }
  const name = Buffer.from(bare, 'utf8');
  return Buffer.concat([Buffer.from([3, name.length]), name, portBytes]);
}

function ipv6Bytes(text: string): Buffer {
  // Expands "::" and a dotted IPv4 tail (::ffff:127.0.0.1) into 16 bytes.
  let t = text;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(t);
  if (v4) {
    const p = v4[1]!.split('.').map(Number);
    t = `${t.slice(0, -v4[1]!.length)}${((p[0]! << 8) | p[1]!).toString(16)}:${((p[2]! << 8) | p[3]!).toString(16)}`;
  }
  const [head = '', tail] = t.split('::');
  const h = head === '' ? [] : head.split(':');
  const tl = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - tl.length).fill('0'), ...tl];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/**
 * Opens a SOCKS5 CONNECT through the proxy on 127.0.0.1:proxyPort to host:port. Resolves
 * with the connected socket (paused, nothing consumed past the reply); rejects with
 * Socks5ReplyError for a refusal, or an Error for anything else, within `timeoutMs`.
 */
export async function socks5Connect(proxyPort: number, host: string, port: number, timeoutMs = 20_000): Promise<net.Socket> {
  const socket = net.connect({ host: '127.0.0.1', port: proxyPort });
  socket.pause();
  const handshake = async (): Promise<net.Socket> => {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.setNoDelay(true);
    socket.write(Buffer.from([5, 1, 0]));
    const choice = await readExactly(socket, 2);
    if (choice[0] !== 5 || choice[1] !== 0) throw new Error(`SOCKS5 proxy chose method ${choice[1]}`);
    socket.write(Buffer.concat([Buffer.from([5, 1, 0]), encodeTarget(host, port)]));
    const head = await readExactly(socket, 4);
    if (head[1] !== 0) throw new Socks5ReplyError(head[1]!);
    const atyp = head[3];
    const rest = atyp === 1 ? 6 : atyp === 4 ? 18 : atyp === 3 ? (await readExactly(socket, 1))[0]! + 2 : -1;
    if (rest < 0) throw new Error(`SOCKS5 reply has address type ${atyp}`);
    await readExactly(socket, rest);
    return socket;
  };
  try {
    return await within(handshake(), timeoutMs, `SOCKS5 CONNECT to ${host}:${port}`);
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

/** Result of an HTTP GET over a tunnel. */
export interface TunnelGet {
  status: number;
  bytes: number;
  sha256: string;
}

/**
 * GET `path` from 127.0.0.1:originPort through the SOCKS5 proxy (`Connection: close`) and
 * hash the body. `host` is what the CONNECT names (default 127.0.0.1).
 */
export async function getThroughSocks(proxyPort: number, originPort: number, path: string, timeoutMs = 60_000, host = '127.0.0.1'): Promise<TunnelGet> {
  const socket = await socks5Connect(proxyPort, host, originPort, timeoutMs);
  try {
    return await within(readResponse(socket, path), timeoutMs, `GET ${path} through SOCKS5`);
  } finally {
    socket.destroy();
  }
}

/** Sends a GET on a connected socket and reads the whole response (until the server closes). */
export function readResponse(socket: net.Socket, path: string): Promise<TunnelGet> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let head: Buffer | null = Buffer.alloc(0);
    let status = 0;
    let bytes = 0;
    socket.on('data', (chunk: Buffer) => {
      if (head !== null) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head.subarray(0, end).toString('latin1'))?.[1] ?? 0);
        const body = head.subarray(end + 4);
        head = null;
        bytes += body.length;
        hash.update(body);
        return;
      }
      bytes += chunk.length;
      hash.update(chunk);
    });
    socket.once('end', () => resolve({ status, bytes, sha256: hash.digest('hex') }));
    socket.once('error', reject);
    // After 'end' this is a no-op; without one the response was cut (reset, abort).
    socket.once('close', () => reject(new Error(`connection closed before the response ended (${bytes} body bytes, status ${status})`)));
    socket.write(`GET ${path} HTTP/1.1\r\nHost: origin\r\nConnection: close\r\n\r\n`);
    socket.resume();
  });
}

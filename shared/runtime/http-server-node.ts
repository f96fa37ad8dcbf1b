import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { getRequestListener, type HttpBindings } from '@hono/node-server';
import { WebSocketServer } from 'ws';
import { codedError, ErrorCode } from '../errors.ts';
import type { ConnInfo, HttpServer, ResolvedServeOptions } from './http-server.ts';
import { WsCloseCode } from './websocket.ts';
import { NodeWsConnection } from './websocket-node.ts';

/** RFC 6455 section 4.1: the key is 16 random bytes, base64 encoded. */
const WS_KEY = /^[+/0-9A-Za-z]{22}==$/;

/** Fields of http.ServerResponse that node:http itself uses for keep-alive (stable since Node 0.x, mirrored by Deno). */
type ResponseInternals = http.ServerResponse & { _keepAliveTimeout: number; _last: boolean };

function swallow(): void {}

function connInfo(socket: net.Socket, secure: boolean): ConnInfo {
  return { remoteAddress: socket.remoteAddress ?? '', remotePort: socket.remotePort ?? 0, secure };
}

/** True for a handshake `ws` would accept; anything else goes to the decoy instead of a ws 400. */
function isWebSocketHandshake(req: http.IncomingMessage): boolean {
  const key = req.headers['sec-websocket-key'];
  return (
    req.method === 'GET' &&
    req.headers.upgrade?.toLowerCase() === 'websocket' &&
    key !== undefined &&
    WS_KEY.test(key) &&
    req.headers['sec-websocket-version']?.trim() === '13'
  );
}

/** The upgrade request as a fetch Request (throws on a Host header that makes no URL). */
function toRequest(req: http.IncomingMessage, secure: boolean): Request {
  const url = new URL(req.url ?? '/', `${secure ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}`);
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) headers.append(raw[i] as string, raw[i + 1] as string);
  return new Request(url, { method: req.method ?? 'GET', headers });
}

/** What node:http's parser would have decided: keep-alive unless the request says otherwise or carries a body we skipped. */
function wantsKeepAlive(req: http.IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if ((length !== undefined && length.trim() !== '0') || req.headers['transfer-encoding'] !== undefined) return false;
  const tokens = (req.headers.connection ?? '').toLowerCase().split(',').map((t) => t.trim());
  if (req.httpVersionMajor === 1 && req.httpVersionMinor >= 1) return !tokens.includes('close');
  return tokens.includes('keep-alive');
}

const SPECIAL_HEADER_NAMES: Record<string, string> = { etag: 'ETag', 'www-authenticate': 'WWW-Authenticate', 'content-md5': 'Content-MD5' };

/** "content-type" -> "Content-Type" (and the few names common servers spell otherwise). */
export function canonicalHeaderName(name: string): string {
  const lower = name.toLowerCase();
  return SPECIAL_HEADER_NAMES[lower] ?? lower.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

/**
 * Fetch `Headers` are lower-case, and lower-case header names on the wire would tell a prober
 * the decoy is a Node app; nginx, Apache and most origins send Title-Case. writeHead() is where
 * @hono/node-server hands the header record over, so the names are rewritten there.
 */
function canonicalHeaderNames(res: http.ServerResponse): void {
  const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => http.ServerResponse;
  res.writeHead = ((...args: unknown[]) => {
    const last = args[args.length - 1];
    if (args.length > 1 && typeof last === 'object' && last !== null && !Array.isArray(last)) {
      const renamed: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(last)) renamed[canonicalHeaderName(name)] = value;
      args[args.length - 1] = renamed;
    }
    return writeHead(...args);
  }) as typeof res.writeHead;
}

/**
 * node:http (on Node and on Deno's node:http) + @hono/node-server + `ws` in noServer mode.
 *
 * Once an 'upgrade' listener exists node:http hands every request carrying `Upgrade` to it and
 * forgets the socket. Requests we do not accept are answered through the same request listener
 * with a ServerResponse assigned to that socket, and a keep-alive socket is then given back to
 * the server as a new connection, so status line, headers, body and keep-alive behaviour are
 * byte-for-byte those of a plain request to the decoy.
 */
export async function serveNodeHttp(options: ResolvedServeOptions): Promise<HttpServer> {
  const secure = options.tls !== undefined;
  const route = options.websocket;
  const fetchListener = getRequestListener(
    (req, env) => options.fetch(req, connInfo((env as HttpBindings).incoming.socket, secure)),
    { overrideGlobalObjects: false },
  );
  const listener = (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    canonicalHeaderNames(res);
    return fetchListener(req, res);
  };
  const server: http.Server = secure
    ? https.createServer({ ...options.tls, ALPNProtocols: ['http/1.1'] }, listener)
    : http.createServer(listener);
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: options.limits.maxPayload,
    skipUTF8Validation: true,
    clientTracking: false,
    // closeTimeout exists since ws 8.18 but is missing from @types/ws.
    ...{ closeTimeout: options.limits.closeTimeoutMs },
  });
  const sockets = new Set<net.Socket>();
  const open = new Set<NodeWsConnection>();
  let closing = false;

  server.on('connection', (socket: net.Socket) => {
    if (sockets.has(socket)) return;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  const answerAsHttp = (req: http.IncomingMessage, socket: net.Socket, head: Buffer): void => {
    const res = new http.ServerResponse(req) as ResponseInternals;
    res._keepAliveTimeout = server.keepAliveTimeout;
    res.shouldKeepAlive = wantsKeepAlive(req) && !closing;
    res.assignSocket(socket);
    res.on('finish', () => {
      res.detachSocket(socket);
      if (res._last || closing || socket.destroyed) {
        socket.destroySoon();
        return;
      }
      if (head.byteLength > 0) socket.unshift(head);
      socket.off('error', swallow);
      // https.Server runs its HTTP connection listener on 'secureConnection'.
      server.emit(secure ? 'secureConnection' : 'connection', socket);
      socket.setTimeout(server.keepAliveTimeout);
    });
    void listener(req, res);
  };

  const accept = async (req: http.IncomingMessage, socket: net.Socket, info: ConnInfo): Promise<Request | null> => {
    if (route === undefined || !isWebSocketHandshake(req)) return null;
    let request: Request;
    try {
      request = toRequest(req, secure);
    } catch {
      return null;
    }
    if (route.path !== undefined && new URL(request.url).pathname !== route.path) return null;
    if (route.match === undefined) return request;
    try {
      return (await route.match(request, info)) === true && !socket.destroyed ? request : null;
    } catch (err) {
      options.onError(err);
      return null;
    }
  };

  const onUpgrade = async (req: http.IncomingMessage, socket: net.Socket, head: Buffer): Promise<void> => {
    socket.on('error', swallow);
    if (closing) {
      socket.destroy();
      return;
    }
    const info = connInfo(socket, secure);
    const request = await accept(req, socket, info);
    if (socket.destroyed) return;
    if (request === null || route === undefined) {
      answerAsHttp(req, socket, head);
      return;
    }
    wss.handleUpgrade(req, socket, head, (raw) => {
      socket.off('error', swallow);
      const ws = new NodeWsConnection(raw, socket, options.limits);
      open.add(ws);
      raw.once('close', () => open.delete(ws));
      try {
        route.onOpen(ws, request, info);
      } catch (err) {
        options.onError(err);
        ws.terminate();
      }
    });
  };

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    onUpgrade(req, socket as net.Socket, head).catch((err: unknown) => {
      options.onError(err);
      socket.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.hostname, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((err: Error) => {
    throw codedError(Error, ErrorCode.BAD_CONFIG, `Could not listen on ${options.hostname}:${options.port}: ${err.message}`, err);
  });
  server.on('error', (err) => options.onError(err));
  const bound = server.address() as net.AddressInfo;

  return {
    address: bound.address,
    port: bound.port,
    async close(closeOptions: { graceMs?: number } = {}): Promise<void> {
      const graceMs = closeOptions.graceMs ?? 1_000;
      if (!closing) {
        closing = true;
        for (const ws of open) ws.close(WsCloseCode.GOING_AWAY);
      }
      const closed = new Promise<void>((resolve) => {
        if (!server.listening) resolve();
        else server.close(() => resolve());
      });
      server.closeIdleConnections();
      const timer = setTimeout(() => {
        for (const socket of sockets) socket.destroy();
      }, graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}

import { codedError, ErrorCode } from '../errors.ts';
import { serveNodeHttp } from './http-server-node.ts';
import { loadServerTls, type ServerTlsOptions } from './tls.ts';
import { DEFAULT_WS_LIMITS, resolveWsLimits, type WsConnection, type WsLimits } from './websocket.ts';

/** Who is on the other end of an HTTP request or WebSocket upgrade. */
export interface ConnInfo {
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** True when the request arrived over TLS. */
  readonly secure: boolean;
}

/** A fetch-style handler: a hono app's `app.fetch` fits (ConnInfo becomes `c.env`). */
export type FetchHandler = (req: Request, info: ConnInfo) => Response | Promise<Response>;

/**
 * Which upgrade requests become WebSockets. A request is accepted when it is a well-formed
 * WebSocket handshake (RFC 6455 section 4.2.1), its path equals `path` (if set) and `match`
 * (if set) returns true. Everything else, malformed handshakes included, is answered by
 * `fetch` exactly like a plain request, so a prober cannot tell the tunnel path exists.
 */
export interface WebSocketRoute {
  /** Exact URL pathname (query ignored), e.g. '/assets/ws-3f9a'. */
  path?: string;
  /** Extra decision on the request (headers, query). Throwing counts as false. */
  match?: (req: Request, info: ConnInfo) => boolean | Promise<boolean>;
  /** Takes the open connection; set its handlers synchronously or it stays paused. */
  onOpen: (ws: WsConnection, req: Request, info: ConnInfo) => void;
}

/** Options for serve(). Limits apply to every accepted WebSocket. */
export interface ServeOptions extends Partial<WsLimits> {
  hostname: string;
  /** 0 picks a free port (see HttpServer.port). */
  port: number;
  /** Serve HTTPS/WSS (ALPN http/1.1) instead of plain HTTP. */
  tls?: ServerTlsOptions;
  fetch: FetchHandler;
  websocket?: WebSocketRoute;
  /** Errors thrown by websocket.onOpen or websocket.match land here (default: console.error). */
  onError?: (error: unknown) => void;
}

/** A listening HTTP(S) server. */
export interface HttpServer {
  readonly address: string;
  readonly port: number;
  /**
   * Stops accepting, closes WebSockets with 1001 and idle HTTP connections, waits up to
   * `graceMs` (default 1000) for the rest, then destroys whatever is left.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

/** serve() options after validation, as the engine receives them. */
export interface ResolvedServeOptions {
  hostname: string;
  port: number;
  tls: { cert: string; key: string } | undefined;
  fetch: FetchHandler;
  websocket: WebSocketRoute | undefined;
  limits: WsLimits;
  onError: (error: unknown) => void;
}

/**
 * Serves HTTP(S) with WebSocket upgrades. One engine on both runtimes: node:http(s) with
 * @hono/node-server for requests and `ws` (noServer + handleUpgrade) for upgrades. Deno.serve
 * with Deno.upgradeWebSocket is not used: it cannot drop a socket without a close frame
 * (terminate), cannot bound a message before buffering it, and reports no drain; see
 * docs/runtime.md. Rejects with BAD_CONFIG for bad options or a port that cannot be bound.
 */
export async function serve(options: ServeOptions): Promise<HttpServer> {
  if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
    throw codedError(RangeError, ErrorCode.BAD_CONFIG, `port must be an integer 0-65535, got ${options.port}`);
  }
  const path = options.websocket?.path;
  if (path !== undefined && !path.startsWith('/')) {
    throw codedError(RangeError, ErrorCode.BAD_CONFIG, `websocket.path must start with '/', got ${path}`);
  }
  return serveNodeHttp({
    hostname: options.hostname,
    port: options.port,
    tls: options.tls === undefined ? undefined : loadServerTls(options.tls),
    fetch: options.fetch,
    websocket: options.websocket,
    limits: resolveWsLimits(options, DEFAULT_WS_LIMITS),
    onError: options.onError ?? ((error) => console.error(error)),
  });
}

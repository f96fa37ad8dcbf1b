/**
 * The reverse-proxy decoy (decoy.mode proxy): every request that is not a tunnel is sent on to
 * `decoy.upstream` and its answer relayed, so the handler looks exactly like that site.
 * Hop-by-hop fields (RFC 9110 7.6.1) and the WebSocket handshake fields are dropped both ways,
 * so an upgrade request on a wrong path is forwarded exactly like the same plain request. The
 * body is decoded by fetch, so Content-Encoding and Content-Length are recomputed, not copied.
 * An upstream that fails or stalls gets a plain 502 in the fixed header set.
 */
import { fileResponse } from './respond.ts';

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'content-encoding',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-extensions',
  'sec-websocket-protocol',
  'sec-websocket-accept',
]);

/** Default deadline for one upstream answer (headers). */
export const DEFAULT_DECOY_PROXY_TIMEOUT_MS = 10_000;

const BAD_GATEWAY = `<!DOCTYPE html>
<html><head><title>502 Bad Gateway</title></head>
<body><h1>Bad Gateway</h1><p>The server could not complete your request. Please try again later.</p></body></html>
`;

function copyHeaders(from: Headers, extraDrop: readonly string[] = []): Headers {
  const named = (from.get('connection') ?? '').split(',').map((t) => t.trim().toLowerCase());
  const out = new Headers();
  from.forEach((value, name) => {
    if (HOP_BY_HOP.has(name) || named.includes(name) || extraDrop.includes(name)) return;
    out.append(name, value);
  });
  return out;
}

/** Options of the proxy decoy. */
export interface ProxyDecoyOptions {
  timeoutMs?: number;
  /** The fetch to use (tests inject one); default globalThis.fetch. */
  fetch?: typeof fetch;
}

/** Builds the proxy decoy for `upstream` (an http(s) URL, optionally with a base path). */
export function proxyDecoy(upstream: string, options: ProxyDecoyOptions = {}): (req: Request) => Promise<Response> {
  const base = new URL(upstream);
  const basePath = base.pathname.endsWith('/') ? base.pathname.slice(0, -1) : base.pathname;
  const timeoutMs = options.timeoutMs ?? DEFAULT_DECOY_PROXY_TIMEOUT_MS;
  const doFetch = options.fetch ?? globalThis.fetch;
  return async (req) => {
    const incoming = new URL(req.url);
    const target = new URL(base.href);
    target.pathname = `${basePath}${incoming.pathname}`;
    target.search = incoming.search;
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && req.body !== null;
    try {
      const res = await doFetch(target, {
        method: req.method,
        headers: copyHeaders(req.headers),
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
        ...(hasBody ? { body: await req.arrayBuffer() } : {}),
      });
      // Set-Cookie scoped to the upstream's domain would still work; nothing to rewrite there.
      return new Response(req.method === 'HEAD' ? null : res.body, { status: res.status, statusText: res.statusText, headers: copyHeaders(res.headers) });
    } catch {
      return fileResponse(502, BAD_GATEWAY, 'text/html; charset=utf-8', req.method, Date.now());
    }
  };
}

/**
 * HTTP proxy server side as a pure, incremental state machine: head -> (body) -> done.
 *
 * - CONNECT host:port (RFC 9110 section 9.3.6): reported as 'connect'; the owner answers with
 *   encodeConnectEstablished() and pipes bytes, starting with `rest`.
 * - Absolute-form `GET http://host[:port]/path HTTP/1.1` (RFC 9112 section 3.2.2): reported
 *   as 'request' with the origin-form head to send upstream, then the request body as 'body'
 *   events and 'end'. One request per app connection: the upstream head says
 *   `Connection: close`, the owner relays the origin's response verbatim and closes the app
 *   connection when the origin closes. Bytes after the body (a pipelined second request) are
 *   never forwarded; the app retries them on a new connection. docs/routing.md explains why.
 */
import { codedError, ErrorCode, type ErrorCodeValue } from '../../shared/errors.ts';
import { matchCredentials, type ProxyCredentials } from './auth.ts';
import { createBodyTracker, type BodyFraming, type BodyTracker } from './http-body.ts';
import {
  findHeadEnd,
  headerValues,
  latin1Decode,
  listValues,
  parseAuthority,
  parseRequestHead,
  type RequestHead,
} from './http-head.ts';
import { encodeHttpError, encodeProxyAuthRequired } from './http-response.ts';
import { TargetType, type ProxyTarget } from './target.ts';

/** Parser options. With `users` non-empty, Proxy-Authorization: Basic is required. */
export type HttpProxyOptions = {
  readonly users?: readonly ProxyCredentials[];
  /** Realm in the 407 challenge (default "apfsds"). */
  readonly realm?: string;
  /** Largest request head accepted, bytes (default 16384, Node's default too). */
  readonly maxHeadBytes?: number;
  /** Most header fields accepted (default 100). */
  readonly maxHeaders?: number;
};

/** Where the parser stands. 'done' and 'failed' are final. */
export type HttpProxyState = 'head' | 'body' | 'done' | 'failed';

/** What the owner must do next. */
export type HttpProxyEvent =
  | {
      readonly type: 'connect';
      readonly target: ProxyTarget;
      readonly user: string | null;
      /** Tunnel bytes the app sent after the head (e.g. an early TLS ClientHello). */
      readonly rest: Uint8Array;
    }
  | {
      readonly type: 'request';
      readonly target: ProxyTarget;
      readonly user: string | null;
      readonly method: string;
      /** The origin-form head to write upstream before any 'body' data. */
      readonly head: Uint8Array;
      readonly framing: BodyFraming['kind'];
    }
  /** Request body bytes to forward verbatim. */
  | { readonly type: 'body'; readonly data: Uint8Array }
  /** The request is complete; nothing more will be forwarded. */
  | { readonly type: 'end' }
  /** Write `response`, then close. */
  | {
      readonly type: 'error';
      readonly code: ErrorCodeValue;
      readonly status: number;
      readonly message: string;
      readonly response: Uint8Array;
    };

/** An incremental HTTP proxy parser for one app connection. */
export type HttpProxyParser = {
  readonly state: HttpProxyState;
  /** Bytes received after the request ended; dropped, never forwarded. */
  readonly excessBytes: number;
  push(chunk: Uint8Array): HttpProxyEvent[];
};

// Connection-specific fields a proxy removes (RFC 9110 section 7.6.1), plus Host, which is
// rebuilt from the absolute-form target (RFC 9112 section 3.2.2).
const HOP_BY_HOP = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'te',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
  'host',
]);

// Fields whose removal would change the message framing or target; naming one in Connection
// is an attack on the next hop, not a hop-by-hop declaration.
const NEVER_HOP_BY_HOP = new Set(['content-length', 'transfer-encoding', 'host']);

const latin1 = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

/** Reads Basic credentials (RFC 7617) from a Proxy-Authorization value, or null. */
function basicCredentials(value: string): { username: Uint8Array; password: Uint8Array } | null {
  const m = /^basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i.exec(value);
  if (m === null) return null;
  let binary: string;
  try {
    binary = atob(m[1] as string);
  } catch {
    return null;
  }
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  const colon = bytes.indexOf(0x3a);
  if (colon < 0) return null;
  return { username: bytes.subarray(0, colon), password: bytes.subarray(colon + 1) };
}

/** Body framing of a request (RFC 9112 section 6.3), or a reason to refuse it. */
function requestFraming(head: RequestHead): BodyFraming | string {
  const te = listValues(headerValues(head.headers, 'transfer-encoding'));
  const cl = listValues(headerValues(head.headers, 'content-length'));
  if (te.length > 0) {
    if (head.version === '1.0') return 'Transfer-Encoding in an HTTP/1.0 request';
    // Both present is the classic request-smuggling shape; refuse rather than pick one.
    if (cl.length > 0) return 'both Transfer-Encoding and Content-Length';
    if ((te[te.length - 1] as string).toLowerCase() !== 'chunked') return 'Transfer-Encoding does not end in chunked';
    return { kind: 'chunked' };
  }
  if (cl.length === 0) return { kind: 'none' };
  if (!cl.every((v) => v === cl[0]) || !/^[0-9]{1,15}$/.test(cl[0] as string)) return 'invalid Content-Length';
  const length = Number(cl[0]);
  return length === 0 ? { kind: 'none' } : { kind: 'length', length };
}

/** Path and query of an absolute-form URI; fragment dropped. */
function originForm(rest: string): string {
  const hash = rest.indexOf('#');
  const noFrag = hash < 0 ? rest : rest.slice(0, hash);
  if (noFrag === '') return '/';
  return noFrag.startsWith('?') ? `/${noFrag}` : noFrag;
}

/** The upstream head for a plain-HTTP request: origin-form, hop-by-hop fields removed. */
function buildUpstreamHead(head: RequestHead, target: ProxyTarget, path: string): string | null {
  const named = new Set(listValues(headerValues(head.headers, 'connection')).map((s) => s.toLowerCase()));
  for (const n of named) if (NEVER_HOP_BY_HOP.has(n)) return null;
  const hostText = target.addressType === TargetType.IPV6 ? `[${target.host}]` : target.host;
  let out = `${head.method} ${path} HTTP/${head.version}\r\n`;
  out += `Host: ${target.port === 80 ? hostText : `${hostText}:${target.port}`}\r\n`;
  for (const h of head.headers) {
    const lower = h.name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || named.has(lower)) continue;
    out += `${h.name}: ${h.value}\r\n`;
  }
  return `${out}Connection: close\r\n\r\n`;
}

/** Creates the parser for one app connection. */
export function createHttpProxyParser(options: HttpProxyOptions = {}): HttpProxyParser {
  const users = options.users ?? [];
  const maxHeadBytes = options.maxHeadBytes ?? 16384;
  const maxHeaders = options.maxHeaders ?? 100;
  if (!Number.isInteger(maxHeadBytes) || maxHeadBytes < 64) {
    throw codedError(RangeError, ErrorCode.BAD_CONFIG, `maxHeadBytes must be an integer >= 64, got ${maxHeadBytes}`);
  }
  let state: HttpProxyState = 'head';
  let buf: Uint8Array = new Uint8Array(0);
  let scanned = 0;
  let body: BodyTracker | null = null;
  let tunnel = false;
  let excess = 0;

  const fail = (code: ErrorCodeValue, status: number, message: string, response?: Uint8Array): HttpProxyEvent => {
    state = 'failed';
    buf = new Uint8Array(0);
    return { type: 'error', code, status, message, response: response ?? encodeHttpError(status) };
  };

  const onHead = (headBytes: Uint8Array, after: Uint8Array): HttpProxyEvent[] => {
    const head = parseRequestHead(latin1Decode(headBytes), maxHeaders);
    if ('status' in head) {
      const code = head.status === 431 ? ErrorCode.BUFFER_LIMIT : head.status === 505 ? ErrorCode.UNSUPPORTED : ErrorCode.PROTOCOL;
      return [fail(code, head.status, head.message)];
    }
    let user: string | null = null;
    if (users.length > 0) {
      const creds = basicCredentials(headerValues(head.headers, 'proxy-authorization')[0] ?? '');
      user = creds === null ? null : matchCredentials(users, creds.username, creds.password);
      if (user === null) {
        return [fail(ErrorCode.AUTH_FAILED, 407, 'Proxy credentials are missing or wrong', encodeProxyAuthRequired(options.realm))];
      }
    }
    if (head.method === 'CONNECT') {
      const target = parseAuthority(head.target, null);
      if (target === null) return [fail(ErrorCode.BAD_ADDRESS, 400, 'CONNECT target must be host:port or [ipv6]:port')];
      state = 'done';
      tunnel = true;
      return [{ type: 'connect', target, user, rest: after.slice() }];
    }
    const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)(.*)$/.exec(head.target);
    if (m === null) return [fail(ErrorCode.PROTOCOL, 400, 'Request target must be absolute-form http://host/path')];
    if ((m[1] as string).toLowerCase() !== 'http') {
      return [fail(ErrorCode.UNSUPPORTED, 501, `Scheme ${m[1]} is not proxied; use CONNECT for TLS`)];
    }
    const target = parseAuthority(m[2] as string, 80);
    if (target === null) return [fail(ErrorCode.BAD_ADDRESS, 400, 'Request target authority is invalid')];
    const framing = requestFraming(head);
    if (typeof framing === 'string') return [fail(ErrorCode.PROTOCOL, 400, `Request body framing refused: ${framing}`)];
    const upstream = buildUpstreamHead(head, target, originForm(m[3] as string));
    if (upstream === null) return [fail(ErrorCode.PROTOCOL, 400, 'Connection header names a framing field')];
    const events: HttpProxyEvent[] = [
      { type: 'request', target, user, method: head.method, head: latin1(upstream), framing: framing.kind },
    ];
    body = createBodyTracker(framing, { maxTrailerBytes: maxHeadBytes });
    state = 'body';
    events.push(...onBody(after));
    return events;
  };

  const onBody = (chunk: Uint8Array): HttpProxyEvent[] => {
    const tracker = body as BodyTracker;
    if (tracker.done) {
      state = 'done';
      excess += chunk.length;
      return [{ type: 'end' }];
    }
    const step = tracker.push(chunk);
    if ('error' in step) return [fail(ErrorCode.PROTOCOL, 400, `Request body is malformed: ${step.error}`)];
    const events: HttpProxyEvent[] = [];
    if (step.used > 0) events.push({ type: 'body', data: chunk.slice(0, step.used) });
    if (step.done) {
      state = 'done';
      excess += chunk.length - step.used;
      events.push({ type: 'end' });
    }
    return events;
  };

  return {
    get state() {
      return state;
    },
    get excessBytes() {
      return excess;
    },
    push(chunk: Uint8Array): HttpProxyEvent[] {
      if (state === 'failed') return [];
      if (state === 'done') {
        if (tunnel) return [fail(ErrorCode.CLOSED, 0, 'CONNECT head is over; bytes belong to the tunnel', new Uint8Array(0))];
        excess += chunk.length;
        return [];
      }
      if (state === 'body') return onBody(chunk);
      const prev = buf.length;
      const joined = new Uint8Array(prev + chunk.length);
      joined.set(buf, 0);
      joined.set(chunk, prev);
      buf = joined;
      // Rescan the last two old bytes: the terminator may straddle the chunk boundary.
      const end = findHeadEnd(buf, Math.max(0, scanned - 2));
      if (end < 0) {
        scanned = buf.length;
        if (buf.length > maxHeadBytes) {
          return [fail(ErrorCode.BUFFER_LIMIT, 431, `Request head exceeds ${maxHeadBytes} bytes`)];
        }
        return [];
      }
      if (end > maxHeadBytes) return [fail(ErrorCode.BUFFER_LIMIT, 431, `Request head exceeds ${maxHeadBytes} bytes`)];
      const headBytes = buf.subarray(0, end);
      const after = buf.subarray(end);
      buf = new Uint8Array(0);
      return onHead(headBytes, after);
    },
  };
}

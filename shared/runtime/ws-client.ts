import net from 'node:net';
import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { codedError, ErrorCode } from '../errors.ts';
import { armDeadline, type DeadlineOptions } from './deadline.ts';
import { awaitSocketConnect, DEFAULT_CONNECT_TIMEOUT_MS, hostPort } from './tcp.ts';
import { connectTls, type ClientTlsOptions } from './tls.ts';
import { DEFAULT_WS_LIMITS, resolveWsLimits, type WsConnection, type WsLimits } from './websocket.ts';
import { NodeWsConnection } from './websocket-node.ts';

/** Options for dialWebSocket(). The deadline covers TCP connect, TLS and the HTTP upgrade. */
export interface DialWebSocketOptions extends DeadlineOptions, Partial<WsLimits> {
  /** Server verification for wss: URLs (see ClientTlsOptions). */
  tls?: ClientTlsOptions;
  /** Extra request headers for the upgrade request (e.g. a Host or User-Agent to blend in). */
  headers?: Readonly<Record<string, string>>;
}

/** The UPGRADE_FAILED error for a non-101 answer: `status` is the HTTP status the server sent. */
export type UpgradeRejectedError = Error & { code: typeof ErrorCode.UPGRADE_FAILED; status: number };

function parseTarget(url: string | URL): { url: URL; host: string; port: number; secure: boolean } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw codedError(SyntaxError, ErrorCode.BAD_CONFIG, `WebSocket URL ${String(url)} is not a valid URL`, err);
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw codedError(SyntaxError, ErrorCode.BAD_CONFIG, `WebSocket URL must start with ws: or wss:, got ${parsed.protocol}`);
  }
  const secure = parsed.protocol === 'wss:';
  const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
  const port = parsed.port === '' ? (secure ? 443 : 80) : Number(parsed.port);
  return { url: parsed, host, port, secure };
}

/**
 * Runs the HTTP upgrade over an already connected (and, for wss, verified) socket; `ws` only
 * frames. Handing ws the socket through createConnection keeps DNS, TCP, TLS policy and the
 * deadline in our hands on both runtimes.
 */
function upgrade(target: URL, socket: net.Socket, options: DialWebSocketOptions, limits: WsLimits, signal: AbortSignal): Promise<WsConnection> {
  return new Promise<WsConnection>((resolve, reject) => {
    const raw = new WebSocket(target, {
      createConnection: () => socket,
      perMessageDeflate: false,
      maxPayload: limits.maxPayload,
      skipUTF8Validation: true,
      followRedirects: false,
      // closeTimeout exists since ws 8.18 but is missing from @types/ws.
      ...{ closeTimeout: limits.closeTimeoutMs },
      ...(options.headers !== undefined ? { headers: { ...options.headers } } : {}),
    });
    const what = `${target.protocol}//${target.host}${target.pathname}`;
    const cleanup = (): void => {
      raw.off('open', onOpen);
      raw.off('error', onError);
      raw.off('unexpected-response', onRejected);
      signal.removeEventListener('abort', onAbort);
    };
    const fail = (err: Error): void => {
      cleanup();
      // Swallow the late 'error' that terminate() may still produce on the half-built socket.
      raw.on('error', () => {});
      raw.terminate();
      socket.destroy();
      reject(err);
    };
    const onOpen = (): void => {
      cleanup();
      resolve(new NodeWsConnection(raw, socket, limits));
    };
    const onError = (err: Error): void => {
      fail(codedError(Error, ErrorCode.UPGRADE_FAILED, `WebSocket upgrade to ${what} failed: ${err.message}`, err));
    };
    const onRejected = (_req: unknown, res: IncomingMessage): void => {
      const status = res.statusCode ?? 0;
      const err = codedError(Error, ErrorCode.UPGRADE_FAILED, `Server ${what} answered the WebSocket upgrade with HTTP ${status} instead of 101`) as UpgradeRejectedError;
      err.status = status;
      res.resume();
      fail(err);
    };
    const onAbort = (): void => fail(signal.reason as Error);
    raw.once('open', onOpen);
    raw.once('error', onError);
    raw.once('unexpected-response', onRejected);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Dials a binary WebSocket (permessage-deflate off; system CAs unless tls says otherwise).
 * Rejects with BAD_CONFIG (URL or pin), CONNECT_FAILED, TLS_VERIFY (`reason` 'untrusted',
 * 'hostname' or 'pin'), UPGRADE_FAILED (`status` for a non-101 answer), TIMEOUT (default 10 s)
 * or ABORTED.
 */
export async function dialWebSocket(url: string | URL, options: DialWebSocketOptions = {}): Promise<WsConnection> {
  const target = parseTarget(url);
  const limits = resolveWsLimits(options, DEFAULT_WS_LIMITS);
  const what = hostPort(target.host, target.port);
  const deadline = armDeadline(`WebSocket dial to ${what}`, options, DEFAULT_CONNECT_TIMEOUT_MS);
  try {
    const socket = target.secure
      ? await connectTls(target.host, target.port, options.tls ?? {}, deadline.signal)
      : await awaitSocketConnect(net.connect({ host: target.host, port: target.port, noDelay: true }), 'connect', what, deadline.signal);
    return await upgrade(target.url, socket, options, limits, deadline.signal);
  } finally {
    deadline.clear();
  }
}

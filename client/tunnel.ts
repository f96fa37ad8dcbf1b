/**
 * Opening one tunnel stream for an app request: take a session from the pool, send OPEN,
 * wait for the answer, all within the open deadline (config openTimeout). A stream the
 * session could not carry (GOAWAY before it was processed, the session closing or full
 * before an answer) is retried on another session: no byte of the app has been sent yet,
 * because the callers write only after OPEN_OK.
 */
import { codedError, ErrorCode, hasCode } from '../shared/errors.ts';
import type { MuxSession } from '../shared/mux/session.ts';
import type { MuxStream } from '../shared/mux/stream.ts';
import type { Endpoint } from '../shared/protocol/address.ts';
import type { NetworkValue } from '../shared/protocol/constants.ts';
import { proxyFailureForError } from './open-failure.ts';
import type { ProxyFailureReason } from './proxy/failure.ts';
import type { ProxyTarget } from './proxy/target.ts';
import type { SessionPool } from './session-pool.ts';

/** Sessions tried for one stream before giving up (each refusal moves to another). */
export const MAX_OPEN_ATTEMPTS = 3;

/** The outcome of openTunnel(). */
export type TunnelResult =
  | { readonly ok: true; readonly stream: MuxStream }
  | { readonly ok: false; readonly failure: ProxyFailureReason; readonly error: Error };

/** What to open and how long it may take. */
export interface TunnelRequest {
  readonly network: NetworkValue;
  readonly target: ProxyTarget;
  /** Budget for getting a session and the OPEN answer, in ms. */
  readonly timeoutMs: number;
  /** The app went away: stop waiting. */
  readonly signal?: AbortSignal;
}

/** The OPEN endpoint for a proxy target (same SOCKS5 shape, docs/protocol.md 2.4). */
export function endpointOf(target: ProxyTarget): Endpoint {
  return { addressType: target.addressType, host: target.host, port: target.port };
}

/** The session, not the destination, failed the stream: another session may carry it. */
function retryable(err: unknown): boolean {
  return (
    hasCode(err, ErrorCode.REFUSED) ||
    hasCode(err, ErrorCode.GOING_AWAY) ||
    hasCode(err, ErrorCode.STREAM_LIMIT) ||
    hasCode(err, ErrorCode.CLOSED)
  );
}

/**
 * Opens a stream for `request`. Resolves with the open stream, or with the proxy failure to
 * report: the OPEN_FAIL verdict, 'timeout' when no answer came in time, 'general' when no
 * session could be had within the deadline. Never rejects.
 */
export async function openTunnel(pool: SessionPool, request: TunnelRequest): Promise<TunnelResult> {
  const controller = new AbortController();
  const deadline = Date.now() + request.timeoutMs;
  const timer = setTimeout(
    () => controller.abort(codedError(Error, ErrorCode.CONNECT_FAILED, `No handler session became available within ${request.timeoutMs} ms`)),
    request.timeoutMs,
  );
  const outer = request.signal;
  const onAbort = (): void => controller.abort(codedError(Error, ErrorCode.ABORTED, 'The app closed its connection while the tunnel was opening'));
  if (outer?.aborted) onAbort();
  else outer?.addEventListener('abort', onAbort, { once: true });
  const tried = new Set<MuxSession>();
  let lastError: Error = codedError(Error, ErrorCode.CONNECT_FAILED, 'No handler session was available');
  try {
    for (let attempt = 0; attempt < MAX_OPEN_ATTEMPTS; attempt++) {
      let session: MuxSession;
      try {
        session = await pool.acquire({ signal: controller.signal, exclude: tried });
      } catch (err) {
        // Not getting a session at all is a general failure (SOCKS5 0x01, HTTP 502), not a timeout.
        return { ok: false, failure: 'general', error: err as Error };
      }
      tried.add(session);
      const remaining = Math.max(1, deadline - Date.now());
      let stream: MuxStream;
      try {
        stream = session.open({ network: request.network, address: endpointOf(request.target) }, { timeoutMs: remaining, signal: controller.signal });
        await stream.opened;
        return { ok: true, stream };
      } catch (err) {
        lastError = err as Error;
        if (controller.signal.aborted && hasCode(controller.signal.reason, ErrorCode.CONNECT_FAILED)) {
          // Our overall deadline fired while the OPEN was in flight: no answer in time.
          const timeout = codedError(Error, ErrorCode.TIMEOUT, `Stream got no OPEN answer within ${request.timeoutMs} ms`, err);
          return { ok: false, failure: 'timeout', error: timeout };
        }
        if (!retryable(err) || controller.signal.aborted) {
          return { ok: false, failure: proxyFailureForError(err), error: err as Error };
        }
      }
    }
    return { ok: false, failure: 'general', error: lastError };
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', onAbort);
  }
}

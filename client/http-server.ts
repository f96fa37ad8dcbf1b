/**
 * The HTTP proxy side of the local port (client/proxy/http.ts does the parsing):
 * - CONNECT host:port: open a tunnel stream, answer "200 Connection established" on OPEN_OK
 *   or the status the failure maps to (403 policy, 502 unreachable/refused, 504 timeout ...),
 *   then bridge with half-close both ways;
 * - absolute-form http:// requests: one request per app connection. The rewritten head (with
 *   Connection: close) and the body go up the stream; the origin's response comes back
 *   verbatim and the app connection ends when the origin closes. Our FIN is held until the
 *   response ended, because some origins drop a response when the request side half-closes.
 */
import type { MuxStream } from '../shared/mux/index.ts';
import { Network } from '../shared/protocol/constants.ts';
import { streamLogger } from '../shared/log.ts';
import type { TcpConnection } from '../shared/runtime/tcp.ts';
import { AppConnection } from './app-connection.ts';
import { bridge, type UploadStep } from './bridge.ts';
import { countStream, type ProxyContext } from './context.ts';
import { httpStatusForFailure } from './proxy/failure.ts';
import { createHttpProxyParser, type HttpProxyEvent, type HttpProxyParser } from './proxy/http.ts';
import { encodeConnectEstablished, encodeHttpError } from './proxy/http-response.ts';
import { formatTarget, type ProxyTarget } from './proxy/target.ts';
import { openTunnel } from './tunnel.ts';

/** Serves one app connection whose first bytes (`first`) look like an HTTP request. */
export function serveHttp(conn: TcpConnection, first: Uint8Array, ctx: ProxyContext): void {
  ctx.metrics.connections.inc({ protocol: 'http' });
  const app = new AppConnection(conn);
  const parser = createHttpProxyParser({ users: ctx.users });
  const onChunk = (chunk: Uint8Array): void => {
    const events = parser.push(chunk);
    const head = events[0];
    if (head === undefined) return;
    if (head.type === 'error') {
      ctx.logger.debug({ status: head.status, code: head.code, err: head.message }, 'HTTP proxy request refused');
      app.finish(head.response);
      return;
    }
    if (head.type === 'connect') {
      app.hold();
      void tunnel(app, head.target, [head.rest], ctx);
      return;
    }
    if (head.type === 'request') {
      app.hold();
      void forward(app, parser, head.target, events.slice(1), head.head, ctx);
    }
  };
  conn.onData(onChunk);
  onChunk(first);
}

/**
 * Opens the tunnel stream for an app request; on failure answers the app with the HTTP status
 * for the reason and returns null (also when the app went away meanwhile).
 */
async function openForApp(app: AppConnection, target: ProxyTarget, ctx: ProxyContext, failed: string): Promise<MuxStream | null> {
  app.stopDeadline();
  const result = await openTunnel(ctx.pool, { network: Network.TCP, target, timeoutMs: ctx.openTimeoutMs, signal: app.gone });
  if (!result.ok) {
    ctx.logger.debug({ target: formatTarget(target), failure: result.failure, code: (result.error as { code?: string }).code }, failed);
    app.finish(encodeHttpError(httpStatusForFailure(result.failure)));
    return null;
  }
  if (app.gone.aborted) {
    result.stream.reset();
    return null;
  }
  return result.stream;
}

async function tunnel(app: AppConnection, target: ProxyTarget, initial: Uint8Array[], ctx: ProxyContext): Promise<void> {
  const stream = await openForApp(app, target, ctx, 'HTTP CONNECT failed');
  if (stream === null) return;
  app.conn.write(encodeConnectEstablished());
  const log = streamLogger(ctx.logger, stream.id);
  log.debug({ target: formatTarget(target) }, 'HTTP CONNECT open');
  const done = await countStream(
    ctx,
    bridge(app.conn, stream, {
      initial: [...initial, ...app.held],
      onUp: (n) => ctx.bytesUp.inc(n),
      onDown: (n) => ctx.bytesDown.inc(n),
    }),
  );
  log.debug({ up: done.bytesUp, down: done.bytesDown }, 'HTTP CONNECT closed');
}

/** Turns parser events into upload bytes; `done` once the request body ended. */
function uploadOf(events: readonly HttpProxyEvent[]): UploadStep {
  const data: Uint8Array[] = [];
  let done = false;
  for (const ev of events) {
    if (ev.type === 'body') data.push(ev.data);
    else if (ev.type === 'end') done = true;
    else if (ev.type === 'error') return { abort: true };
  }
  return { data, done };
}

async function forward(
  app: AppConnection,
  parser: HttpProxyParser,
  target: ProxyTarget,
  rest: readonly HttpProxyEvent[],
  head: Uint8Array,
  ctx: ProxyContext,
): Promise<void> {
  const stream = await openForApp(app, target, ctx, 'HTTP request failed');
  if (stream === null) return;
  // Bytes that arrived while the tunnel opened are still raw: run them through the parser.
  const first = uploadOf(rest);
  let aborted = 'abort' in first;
  const initial: Uint8Array[] = [head];
  let uploadDone = false;
  if ('data' in first) {
    initial.push(...first.data);
    uploadDone = first.done;
  }
  for (const chunk of app.held) {
    if (aborted || uploadDone) break;
    const step = uploadOf(parser.push(chunk));
    if ('abort' in step) aborted = true;
    else {
      initial.push(...step.data);
      uploadDone = step.done;
    }
  }
  if (aborted) {
    stream.reset();
    app.finish(encodeHttpError(400));
    return;
  }
  const log = streamLogger(ctx.logger, stream.id);
  log.debug({ target: formatTarget(target) }, 'HTTP request forwarded');
  const done = await countStream(
    ctx,
    bridge(app.conn, stream, {
      initial,
      uploadDone,
      holdFin: true,
      filterUp: (chunk) => uploadOf(parser.push(chunk)),
      onUp: (n) => ctx.bytesUp.inc(n),
      onDown: (n) => ctx.bytesDown.inc(n),
    }),
  );
  log.debug({ up: done.bytesUp, down: done.bytesDown }, 'HTTP request closed');
}

/**
 * Relays one app TCP connection over one mux stream, both ways, with backpressure and
 * half-close (docs/mux.md section 3):
 * - upload: each chunk from the app goes into stream.write(); the app socket is paused until
 *   that write's promise settles, so while the stream has no credit (its queue is above the
 *   high-water mark) the kernel's receive window closes on the app;
 * - download: stream.read() hands a chunk to the app socket; the next read() (which returns
 *   the chunk's credit to the handler) only happens once the socket accepted it (write() true
 *   or 'drain'), so a slow app closes the windows hop by hop back to the destination;
 * - half-close: the app's FIN becomes our FIN on the stream, the stream's FIN becomes end()
 *   on the socket; a RESET or a lost session becomes a TCP RST to the app, and an app that
 *   vanishes without a FIN resets the stream (CANCEL).
 */
import { CloseCode } from '../shared/protocol/codes.ts';
import type { MuxStream } from '../shared/mux/stream.ts';
import type { TcpConnection } from '../shared/runtime/tcp.ts';

/** What the upload filter made of one app chunk. */
export type UploadStep =
  /** Forward `data`; `done` = the request is complete, later app bytes are dropped. */
  | { readonly data: readonly Uint8Array[]; readonly done: boolean }
  /** The app sent something unacceptable: reset the stream and the app connection. */
  | { readonly abort: true };

/** Options of bridge(). */
export interface BridgeOptions {
  /** Bytes the app sent before the tunnel opened, already filtered; forwarded first. */
  readonly initial?: readonly Uint8Array[];
  /** Turns app bytes into stream bytes (plain HTTP: the parser's body events); default identity. */
  readonly filterUp?: (chunk: Uint8Array) => UploadStep;
  /**
   * Keep our side of the stream open until the download ends (plain HTTP: a FIN after the
   * request can make an origin drop the response). Default false: the app's FIN is forwarded.
   */
  readonly holdFin?: boolean;
  /** The upload is already complete before the first app byte (initial data held all of it). */
  readonly uploadDone?: boolean;
  /** Payload bytes forwarded towards the internet. */
  readonly onUp?: (n: number) => void;
  /** Payload bytes delivered to the app. */
  readonly onDown?: (n: number) => void;
}

/** How a relay ended. */
export interface BridgeResult {
  readonly bytesUp: number;
  readonly bytesDown: number;
  /** The stream's error when it did not end with both FINs (reset, session lost), else null. */
  readonly error: Error | null;
}

/**
 * Starts relaying; resolves once both the app connection and the stream are closed. Never
 * rejects. Takes over the connection's onData, onEnd, onDrain and onClose handlers.
 */
export function bridge(conn: TcpConnection, stream: MuxStream, o: BridgeOptions = {}): Promise<BridgeResult> {
  let bytesUp = 0;
  let bytesDown = 0;
  let appEnded = false;
  let uploadDone = o.uploadDone === true;
  let downloadDone = false;
  let connClosed = false;
  let streamFailed = false;
  let finSent = false;
  let drainWaiter: (() => void) | null = null;
  let resolveConnClosed!: () => void;
  const connClosedP = new Promise<void>((resolve) => {
    resolveConnClosed = resolve;
  });

  const sendFin = (): void => {
    if (finSent) return;
    finSent = true;
    stream.end();
  };
  const abort = (): void => {
    if (streamFailed) return;
    streamFailed = true;
    conn.reset();
  };
  const write = (data: Uint8Array): Promise<void> => {
    bytesUp += data.byteLength;
    o.onUp?.(data.byteLength);
    return stream.write(data);
  };
  const forward = (parts: readonly Uint8Array[]): void => {
    if (parts.length === 0) return;
    conn.pause();
    const pending = parts.length === 1 ? write(parts[0] as Uint8Array) : Promise.all(parts.map(write));
    pending.then(
      () => {
        if (!connClosed) conn.resume();
      },
      () => abort(),
    );
  };

  conn.onData((chunk) => {
    if (streamFailed || uploadDone) return;
    if (o.filterUp === undefined) {
      forward([chunk]);
      return;
    }
    const step = o.filterUp(chunk);
    if ('abort' in step) {
      stream.reset(CloseCode.CANCEL);
      abort();
      return;
    }
    forward(step.data);
    if (step.done) {
      uploadDone = true;
      if (o.holdFin !== true) sendFin();
    }
  });
  conn.onEnd(() => {
    appEnded = true;
    // With holdFin, a complete request keeps our side open until the response has ended.
    if (o.holdFin !== true || !uploadDone) sendFin();
  });
  conn.onDrain(() => {
    const w = drainWaiter;
    drainWaiter = null;
    w?.();
  });
  conn.onClose((error) => {
    connClosed = true;
    const w = drainWaiter;
    drainWaiter = null;
    w?.();
    // An orderly close (both FINs) leaves the stream to finish sending what it queued.
    const orderly = error === undefined && appEnded && downloadDone;
    if (!orderly) stream.reset(CloseCode.CANCEL);
    resolveConnClosed();
  });

  // A stream that ends abnormally (RESET, session lost) must release the socket even when
  // neither loop is looking: the download may be parked waiting for a drain that never comes.
  void stream.closed.then(() => {
    if (stream.error !== null) abort();
  });

  const initial = (o.initial ?? []).filter((b) => b.byteLength > 0);
  // The callers pause the app socket while the tunnel opens; forward() resumes it after the
  // initial bytes are queued, otherwise reading starts now.
  if (initial.length > 0) forward(initial);
  else conn.resume();
  if (uploadDone && o.holdFin !== true) sendFin();

  const download = (async (): Promise<void> => {
    try {
      for (;;) {
        const chunk = await stream.read();
        if (chunk === null) break;
        if (connClosed) {
          stream.reset(CloseCode.CANCEL);
          return;
        }
        bytesDown += chunk.byteLength;
        o.onDown?.(chunk.byteLength);
        if (!conn.write(chunk) && !connClosed) {
          await new Promise<void>((resolve) => {
            drainWaiter = resolve;
          });
        }
      }
      downloadDone = true;
      conn.end();
      if (o.holdFin === true) sendFin();
    } catch {
      // RESET from the peer, the session lost, or our own reset: the app sees a TCP RST.
      abort();
    }
  })();

  return Promise.all([download, connClosedP, stream.closed]).then(() => ({
    bytesUp,
    bytesDown,
    error: stream.error,
  }));
}

/**
 * Waiting for one handshake message on a WebSocket, under a deadline. The socket is paused as
 * soon as the message arrives, so anything the peer sends right after it (the first transport
 * messages) stays in the socket until the SecureChannel takes over: nothing is lost, nothing is
 * decrypted with the wrong state.
 */
import { codedError, ErrorCode } from '../errors.ts';
import type { WsConnection } from '../runtime/websocket.ts';

/** Resolves with the next message; rejects with the signal's reason or CLOSED. */
export function nextMessage(ws: WsConnection, signal: AbortSignal): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (): void => {
      done = true;
      signal.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      if (done) return;
      finish();
      ws.pause();
      reject(signal.reason as Error);
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    ws.onClose((code) => {
      if (done) return;
      finish();
      reject(codedError(Error, ErrorCode.CLOSED, `WebSocket closed (${code}) during the handshake`));
    });
    ws.onMessage((message) => {
      if (done) return;
      finish();
      ws.pause();
      resolve(message);
    });
    ws.resume();
  });
}

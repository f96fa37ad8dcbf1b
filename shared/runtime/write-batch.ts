/**
 * Write coalescing for a Node socket. A relay writes one chunk per frame or message; each
 * uncorked write is a syscall and, on loopback, a wakeup of the peer. So the first write of a
 * batch corks the socket and the batch is released:
 *   - when the current callback and its promise jobs are done, if it holds less than
 *     SMALL_BATCH_BYTES: an interactive message leaves at once (a loop turn later cost echo
 *     round trips about 25 us per hop, bench/tunnel.ts);
 *   - after the I/O callbacks of this loop turn (setImmediate) otherwise: bulk data read from
 *     several sockets in one turn leaves in one writev.
 * Queued bytes still count in the socket's writableLength, so watermarks hold as before.
 */
import type { Socket } from 'node:net';
import { setImmediate as afterIo } from 'node:timers';

/** Batches below this many bytes leave at the end of the current job, larger ones after the loop turn's I/O. */
export const SMALL_BATCH_BYTES = 16 * 1024;

const settled = Promise.resolve();

/** Corks a socket for one batch of writes at a time (see the file comment). */
export class WriteBatch {
  readonly #socket: Socket;
  #corked = false;
  readonly #release = (): void => {
    this.#corked = false;
    if (!this.#socket.destroyed) this.#socket.uncork();
  };
  readonly #settle = (): void => {
    if (this.#socket.writableLength < SMALL_BATCH_BYTES) this.#release();
    else afterIo(this.#release);
  };

  constructor(socket: Socket) {
    this.#socket = socket;
  }

  /** Call before each write: starts a batch unless one is open. */
  hold(): void {
    if (this.#corked) return;
    this.#corked = true;
    this.#socket.cork();
    void settled.then(this.#settle);
  }
}

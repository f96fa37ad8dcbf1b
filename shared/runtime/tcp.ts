import net from 'node:net';
import { codedError, ErrorCode } from '../errors.ts';
import { armDeadline, type DeadlineOptions } from './deadline.ts';
import { WriteBatch } from './write-batch.ts';

/** Default budget for a TCP connect when the caller gives none. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/**
 * A runtime-neutral TCP connection with both kinds of backpressure and half-close, mirroring
 * what the mux needs from a socket: write() => false means wait for onDrain; pause()/resume()
 * stop and restart reading (the TCP window closes behind them); end() sends FIN while reads go
 * on; onEnd reports the peer's FIN.
 */
export interface TcpConnection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** Bytes written and not yet handed to the kernel. */
  readonly bufferedAmount: number;
  /** Queues bytes (no copy: do not modify `data` afterwards). False = stop and wait for onDrain. */
  write(data: Uint8Array): boolean;
  /** Sets the handler for "the write queue emptied after write() returned false". */
  onDrain(handler: () => void): void;
  /** Sets the data handler; reading starts only once one is set, so nothing is lost. */
  onData(handler: (chunk: Uint8Array) => void): void;
  /** Sets the handler for the peer's FIN (no more data will arrive; writing may go on). */
  onEnd(handler: () => void): void;
  /** Sets the handler called once when the socket is fully closed; `error` if it failed. */
  onClose(handler: (error?: Error) => void): void;
  /** Stops reading (receive backpressure). */
  pause(): void;
  /** Undoes pause(). */
  resume(): void;
  /** Half-closes: sends FIN after queued bytes; reading continues until the peer's FIN. */
  end(): void;
  /** Closes at once, dropping queued bytes. */
  destroy(): void;
  /** Closes with a TCP RST (for a stream reset); falls back to destroy() where unsupported. */
  reset(): void;
  /** Turns Nagle's algorithm off (true, the default for dialed and accepted sockets) or on. */
  setNoDelay(noDelay?: boolean): void;
}

/** Options for dialTcp(). */
export interface DialTcpOptions extends DeadlineOptions {
  /** Disable Nagle's algorithm (default true: tunnel frames are latency sensitive). */
  noDelay?: boolean;
}

/** A listening TCP server. */
export interface TcpListener {
  readonly address: string;
  readonly port: number;
  /** Stops accepting and destroys open connections. */
  close(): Promise<void>;
}

/** Where listenTcp() binds. Port 0 picks a free port. */
export interface ListenTcpOptions {
  hostname: string;
  port: number;
}

/**
 * Bytes a connection holds (corked or not yet taken by the kernel) before write() returns
 * false. Above the socket's own 16 KiB mark so that the chunks written during one loop turn
 * leave in one writev (see NodeTcpConnection.write); still one socket read's worth at most.
 */
export const TCP_WRITE_HIGH_WATER = 64 * 1024;

/** A plain Uint8Array view over a Node Buffer: same memory, standard slice() semantics. */
function view(chunk: Buffer): Uint8Array {
  return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

class NodeTcpConnection implements TcpConnection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly #socket: net.Socket;
  #error: Error | undefined;
  #closed = false;
  #onClose: ((error?: Error) => void) | null = null;
  #onDataAttached = false;
  #onData: (chunk: Uint8Array) => void = () => {};
  #onEnd: () => void = () => {};
  #onDrain: () => void = () => {};
  readonly #batch: WriteBatch;
  #needDrain = false;

  constructor(socket: net.Socket) {
    this.#socket = socket;
    // One frame per write when relaying: batched into one writev (write-batch.ts).
    this.#batch = new WriteBatch(socket);
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    this.localAddress = socket.localAddress ?? '';
    this.localPort = socket.localPort ?? 0;
    socket.on('error', (err) => {
      this.#error ??= codedError(Error, ErrorCode.CLOSED, `TCP connection to ${this.remoteAddress}:${this.remotePort} failed: ${err.message}`, err);
    });
    socket.on('end', () => this.#onEnd());
    socket.on('drain', () => {
      // Only the drains write() promised: the socket's own mark is lower than ours.
      if (!this.#needDrain) return;
      this.#needDrain = false;
      this.#onDrain();
    });
    socket.on('close', () => {
      this.#closed = true;
      const handler = this.#onClose;
      if (handler === null) return;
      if (this.#error === undefined) handler();
      else handler(this.#error);
    });
  }

  get bufferedAmount(): number {
    return this.#socket.writableLength;
  }

  write(data: Uint8Array): boolean {
    const socket = this.#socket;
    if (socket.destroyed || socket.writableEnded) return false;
    this.#batch.hold();
    socket.write(data);
    // The socket said false at its own 16 KiB mark, so it emits 'drain' once it empties.
    if (socket.writableLength < TCP_WRITE_HIGH_WATER) return true;
    this.#needDrain = true;
    return false;
  }

  onDrain(handler: () => void): void {
    this.#onDrain = handler;
  }

  onData(handler: (chunk: Uint8Array) => void): void {
    this.#onData = handler;
    if (this.#onDataAttached) return;
    this.#onDataAttached = true;
    // Attaching the listener is what switches the stream to flowing mode.
    this.#socket.on('data', (chunk: Buffer) => {
      try {
        this.#onData(view(chunk));
      } catch (err) {
        // An owner's bug ends this connection, not the process; onClose receives the error.
        this.#error ??= err instanceof Error ? err : new Error(String(err));
        this.#socket.destroy();
      }
    });
  }

  onEnd(handler: () => void): void {
    this.#onEnd = handler;
  }

  onClose(handler: (error?: Error) => void): void {
    this.#onClose = handler;
    if (this.#closed) {
      const error = this.#error;
      queueMicrotask(() => (error === undefined ? handler() : handler(error)));
    }
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    if (this.#onDataAttached) this.#socket.resume();
  }

  end(): void {
    if (!this.#socket.destroyed) this.#socket.end();
  }

  destroy(): void {
    this.#socket.destroy();
  }

  reset(): void {
    const socket = this.#socket as net.Socket & { resetAndDestroy?: () => void };
    if (typeof socket.resetAndDestroy === 'function' && !socket.destroyed) socket.resetAndDestroy();
    else socket.destroy();
  }

  setNoDelay(noDelay = true): void {
    this.#socket.setNoDelay(noDelay);
  }
}

/** Wraps an already connected node:net socket (runtime-internal; the tunnel core never sees Socket). */
export function wrapTcpSocket(socket: net.Socket): TcpConnection {
  return new NodeTcpConnection(socket);
}

/**
 * Waits for `event` ('connect' or 'secureConnect') on a socket being connected, destroying it
 * on deadline or error. Rejects with CONNECT_FAILED (the system error, e.g. ECONNREFUSED, is
 * the cause), TIMEOUT or ABORTED. Runtime-internal: shared by dialTcp and the TLS dialer.
 */
export function awaitSocketConnect<S extends net.Socket>(socket: S, event: 'connect' | 'secureConnect', what: string, signal: AbortSignal): Promise<S> {
  return new Promise<S>((resolve, reject) => {
    const cleanup = (): void => {
      socket.off(event, onConnect);
      socket.off('error', onError);
      signal.removeEventListener('abort', onAbort);
    };
    const onConnect = (): void => {
      cleanup();
      resolve(socket);
    };
    const onError = (err: Error): void => {
      cleanup();
      socket.destroy();
      const sys = (err as { code?: unknown }).code;
      reject(codedError(Error, ErrorCode.CONNECT_FAILED, `Could not connect to ${what}: ${typeof sys === 'string' ? sys : err.message}`, err));
    };
    const onAbort = (): void => {
      cleanup();
      socket.destroy();
      reject(signal.reason);
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    socket.once(event, onConnect);
    socket.once('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Formats host:port with brackets around IPv6 literals. */
export function hostPort(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

function checkPort(port: number, field: string, allowZero: boolean): void {
  if (!Number.isInteger(port) || port < (allowZero ? 0 : 1) || port > 65535) {
    throw codedError(RangeError, ErrorCode.BAD_CONFIG, `${field} must be an integer port ${allowZero ? '0' : '1'}-65535, got ${port}`);
  }
}

/**
 * Dials a TCP connection (half-open allowed, Nagle off by default). `host` may be a name, but
 * the exit resolves and policy-checks first and passes an IP. Rejects with CONNECT_FAILED,
 * TIMEOUT (default budget 10 s) or ABORTED.
 */
export async function dialTcp(host: string, port: number, options: DialTcpOptions = {}): Promise<TcpConnection> {
  checkPort(port, 'port', false);
  const what = hostPort(host, port);
  const deadline = armDeadline(`TCP connect to ${what}`, options, DEFAULT_CONNECT_TIMEOUT_MS);
  try {
    const socket = net.connect({ host, port, allowHalfOpen: true, noDelay: options.noDelay ?? true });
    return wrapTcpSocket(await awaitSocketConnect(socket, 'connect', what, deadline.signal));
  } finally {
    deadline.clear();
  }
}

/**
 * Listens for TCP connections; each accepted socket (half-open allowed, Nagle off) is handed
 * to `onConnection` as a TcpConnection. Resolves once bound.
 */
export async function listenTcp(options: ListenTcpOptions, onConnection: (conn: TcpConnection) => void): Promise<TcpListener> {
  checkPort(options.port, 'port', true);
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    onConnection(wrapTcpSocket(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.hostname, () => {
      server.off('error', reject);
      resolve();
    });
  }).catch((err: Error) => {
    throw codedError(Error, ErrorCode.BAD_CONFIG, `Could not listen on ${hostPort(options.hostname, options.port)}: ${err.message}`, err);
  });
  const bound = server.address() as net.AddressInfo;
  return {
    address: bound.address,
    port: bound.port,
    close(): Promise<void> {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}

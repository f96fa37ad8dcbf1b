import dgram from 'node:dgram';
import net from 'node:net';
import { codedError, ErrorCode } from '../errors.ts';

/** Where a datagram came from. */
export interface UdpPeer {
  readonly address: string;
  readonly port: number;
}

/**
 * A runtime-neutral, unconnected UDP socket (node:dgram on both runtimes). Datagrams are
 * lossy by nature: one that arrives while no handler is set is dropped.
 */
export interface UdpSocket {
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
  /** Sends one datagram (no copy: do not modify `data` afterwards). Failures go to onError. */
  send(data: Uint8Array, port: number, address: string): void;
  /** Sets the datagram handler; `data` is a plain Uint8Array view the handler may keep. */
  onMessage(handler: (data: Uint8Array, from: UdpPeer) => void): void;
  /** Sets the handler for send and socket errors (coded CLOSED, cause = system error). */
  onError(handler: (error: Error) => void): void;
  close(): Promise<void>;
}

/** Options for bindUdp(). Defaults: family from hostname (else 4), wildcard address, port 0. */
export interface BindUdpOptions {
  hostname?: string;
  port?: number;
  family?: 4 | 6;
}

class NodeUdpSocket implements UdpSocket {
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
  readonly #socket: dgram.Socket;
  #onError: (error: Error) => void = () => {};
  #onMessage: ((data: Uint8Array, from: UdpPeer) => void) | null = null;
  #closed = false;
  readonly #afterSend: (err: Error | null) => void;

  constructor(socket: dgram.Socket, family: 4 | 6) {
    this.#socket = socket;
    this.family = family;
    const bound = socket.address();
    this.address = bound.address;
    this.port = bound.port;
    this.#afterSend = (err) => {
      if (err !== null) this.#onError(codedError(Error, ErrorCode.CLOSED, `UDP send failed: ${err.message}`, err));
    };
    socket.on('error', (err) => this.#onError(codedError(Error, ErrorCode.CLOSED, `UDP socket failed: ${err.message}`, err)));
    socket.on('message', (msg: Buffer, rinfo: dgram.RemoteInfo) => {
      this.#onMessage?.(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), { address: rinfo.address, port: rinfo.port });
    });
  }

  send(data: Uint8Array, port: number, address: string): void {
    if (this.#closed) {
      this.#onError(codedError(Error, ErrorCode.CLOSED, 'UDP send after close()'));
      return;
    }
    this.#socket.send(data, port, address, this.#afterSend);
  }

  onMessage(handler: (data: Uint8Array, from: UdpPeer) => void): void {
    this.#onMessage = handler;
  }

  onError(handler: (error: Error) => void): void {
    this.#onError = handler;
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }
}

/** Binds a UDP socket; rejects with BAD_CONFIG when the address cannot be bound. */
export async function bindUdp(options: BindUdpOptions = {}): Promise<UdpSocket> {
  const literal = options.hostname === undefined ? 0 : net.isIP(options.hostname);
  const family: 4 | 6 = options.family ?? (literal === 6 ? 6 : 4);
  const hostname = options.hostname ?? (family === 6 ? '::' : '0.0.0.0');
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw codedError(RangeError, ErrorCode.BAD_CONFIG, `port must be an integer 0-65535, got ${port}`);
  }
  const socket = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(port, hostname, () => {
      socket.off('error', reject);
      resolve();
    });
  }).catch((err: Error) => {
    socket.close();
    throw codedError(Error, ErrorCode.BAD_CONFIG, `Could not bind UDP ${hostname}:${port}: ${err.message}`, err);
  });
  return new NodeUdpSocket(socket, family);
}

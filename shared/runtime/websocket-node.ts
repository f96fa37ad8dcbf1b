import { Buffer } from 'node:buffer';
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { setTimeout as startTimer, clearTimeout as stopTimer } from 'node:timers';
import type { WebSocket as WsLibSocket, RawData } from 'ws';
import { codedError, ErrorCode } from '../errors.ts';
import { writeU16, writeU32 } from '../protocol/bytes.ts';
import {
  WS_HEADROOM,
  WsCloseCode,
  type WsCloseHandler,
  type WsConnection,
  type WsLimits,
  type WsMessageHandler,
  type WsReadyState,
} from './websocket.ts';
import { WriteBatch } from './write-batch.ts';

/** How long terminate() waits for queued bytes to flush before it drops the socket outright. */
const TERMINATE_FLUSH_MS = 2_000;

/** RFC 6455 section 5.5: a close frame carries at most 125 bytes, 2 of them the status code. */
const MAX_CLOSE_REASON_BYTES = 123;

/** Close codes an endpoint may put on the wire (RFC 6455 section 7.4.1 and 7.4.2). */
function isSendableCloseCode(code: number): boolean {
  return (
    Number.isInteger(code) &&
    ((code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999))
  );
}

type MaskFn = (source: Buffer, mask: Buffer, output: Buffer, offset: number, length: number) => void;

/** bufferutil's native mask (the one ws uses) when installed, else null (a JS loop instead). */
const nativeMask: MaskFn | null = (() => {
  try {
    return (createRequire(import.meta.url)('bufferutil') as { mask: MaskFn }).mask;
  } catch {
    return null;
  }
})();

const MASK_POOL_SIZE = 8 * 1024;
const maskPool = new Uint8Array(MASK_POOL_SIZE);
let maskPoolUsed = MASK_POOL_SIZE;

/** Four fresh random bytes (RFC 6455 section 5.3: an unpredictable key per frame), from a pool. */
function nextMaskKey(out: Buffer): void {
  if (maskPoolUsed === MASK_POOL_SIZE) {
    globalThis.crypto.getRandomValues(maskPool);
    maskPoolUsed = 0;
  }
  out[0] = maskPool[maskPoolUsed++]!;
  out[1] = maskPool[maskPoolUsed++]!;
  out[2] = maskPool[maskPoolUsed++]!;
  out[3] = maskPool[maskPoolUsed++]!;
}

/** XORs a frame's whole `payload` in place with the masking key (RFC 6455 section 5.3). */
function maskInPlace(payload: Uint8Array, key: Buffer): void {
  const n = payload.byteLength;
  if (nativeMask !== null && n >= 64) {
    const b = Buffer.from(payload.buffer, payload.byteOffset, n);
    nativeMask(b, key, b, 0, n);
    return;
  }
  for (let i = 0; i < n; i++) payload[i]! ^= key[i & 3]!;
}

/** Bytes of the header writeFrameHeader() puts in front of a `length`-byte payload. */
function headerLength(length: number, masked: boolean): number {
  return (length < 126 ? 2 : length < 65536 ? 4 : 10) + (masked ? 4 : 0);
}

/**
 * Writes the header of one unfragmented binary frame at `out[at]` (RFC 6455 section 5.2: FIN,
 * opcode 2, no RSV bits, the shortest length encoding), with the masking key when `key` is given.
 */
function writeFrameHeader(out: Uint8Array, at: number, length: number, key: Buffer | null): void {
  out[at] = 0x82;
  const maskBit = key === null ? 0 : 0x80;
  let o = at + 2;
  if (length < 126) out[at + 1] = maskBit | length;
  else if (length < 65536) {
    out[at + 1] = maskBit | 126;
    writeU16(out, o, length);
    o += 2;
  } else {
    out[at + 1] = maskBit | 127;
    writeU32(out, o, Math.floor(length / 2 ** 32));
    writeU32(out, o + 4, length >>> 0);
    o += 8;
  }
  if (key !== null) out.set(key, o);
}

/**
 * A plain Uint8Array view over what `ws` delivered (a Node Buffer, whose slice() would not
 * copy): same memory, no copy, and the core gets standard Uint8Array semantics.
 */
function toView(data: RawData): Uint8Array {
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  let total = 0;
  for (const part of data) total += part.byteLength;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of data) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/**
 * WsConnection over the `ws` library and the socket under it; used for accepted and dialed
 * connections on both runtimes. Receive backpressure follows ws `socketOnData`: while no
 * handler is set or pause() is in effect the socket is paused and messages already parsed from
 * the last chunk wait in a short queue (bounded by one socket read).
 */
export class NodeWsConnection implements WsConnection {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly #raw: WsLibSocket;
  readonly #socket: Socket;
  readonly #limits: WsLimits;
  readonly #afterWrite: (err?: Error | null) => void;
  readonly #batch: WriteBatch;
  /** Client side (frames must be masked), server side, or unknown (sendWithHeadroom then hands the payload to ws). */
  readonly #masks: boolean | null;
  readonly #maskKey = Buffer.alloc(4);
  #state: WsReadyState = 'open';
  #onMessage: WsMessageHandler | null = null;
  #onDrain: (() => void) | null = null;
  #onClose: WsCloseHandler | null = null;
  #queue: Uint8Array[] = [];
  #paused = false;
  #flushScheduled = false;
  #needDrain = false;
  #terminated = false;
  #localCode: number | undefined;
  #localReason = '';
  #error: Error | undefined;
  #result: { code: number; reason: string; error: Error | undefined } | null = null;

  constructor(raw: WsLibSocket, socket: Socket, limits: WsLimits) {
    this.#raw = raw;
    this.#socket = socket;
    this.#limits = limits;
    this.remoteAddress = socket.remoteAddress ?? '';
    this.remotePort = socket.remotePort ?? 0;
    // One shared write callback (no closure per message): ws calls it when a frame has left
    // the socket's queue, which is exactly when bufferedAmount can have fallen.
    this.#afterWrite = () => {
      if (this.#needDrain && this.#state === 'open' && raw.bufferedAmount <= limits.lowWaterMark) {
        this.#needDrain = false;
        const handler = this.#onDrain;
        if (handler !== null) this.#guard(handler);
      }
    };
    // ws marks its own side this way in every 8.x release; anything else sends through ws.
    const isServer = (raw as unknown as { _isServer?: unknown })._isServer;
    this.#masks = typeof isServer === 'boolean' ? !isServer : null;
    // Messages sent in one job (or, when large, in one loop turn) leave in one writev.
    this.#batch = new WriteBatch(socket);
    raw.on('message', (data, isBinary) => this.#receive(data, isBinary));
    raw.on('error', (err) => this.#fail(err));
    raw.on('close', (code, reason) => this.#finish(code, reason));
    raw.pause();
  }

  get bufferedAmount(): number {
    return this.#raw.bufferedAmount;
  }

  get readyState(): WsReadyState {
    return this.#state;
  }

  send(data: Uint8Array): boolean {
    if (this.#state !== 'open') return false;
    this.#batch.hold();
    this.#raw.send(data, this.#afterWrite);
    return this.#belowHighWater();
  }

  /**
   * One binary frame whose header goes into the buffer's headroom, written straight to the
   * socket in one piece, masked in place on the client side. ws's sender writes synchronously
   * too (no permessage-deflate, no Blobs here), so frames stay in order with its own.
   */
  sendWithHeadroom(buffer: Uint8Array, headroom: number): boolean {
    if (headroom < WS_HEADROOM || headroom > buffer.byteLength) {
      throw codedError(RangeError, ErrorCode.BUFFER_LIMIT, `The headroom is ${headroom} bytes: expected ${WS_HEADROOM} to ${buffer.byteLength}`);
    }
    if (this.#state !== 'open') return false;
    const masks = this.#masks;
    if (masks === null) return this.send(buffer.subarray(headroom));
    const length = buffer.byteLength - headroom;
    const key = masks ? this.#maskKey : null;
    if (key !== null) nextMaskKey(key);
    const start = headroom - headerLength(length, key !== null);
    writeFrameHeader(buffer, start, length, key);
    if (key !== null) maskInPlace(buffer.subarray(headroom), key);
    this.#batch.hold();
    this.#socket.write(buffer.subarray(start), this.#afterWrite);
    return this.#belowHighWater();
  }

  #belowHighWater(): boolean {
    if (this.#raw.bufferedAmount >= this.#limits.highWaterMark) {
      this.#needDrain = true;
      return false;
    }
    return true;
  }


  onMessage(handler: WsMessageHandler): void {
    this.#onMessage = handler;
    this.#pump();
  }

  onDrain(handler: () => void): void {
    this.#onDrain = handler;
  }

  onClose(handler: WsCloseHandler): void {
    this.#onClose = handler;
    const result = this.#result;
    if (result !== null) {
      queueMicrotask(() => {
        if (result.error === undefined) handler(result.code, result.reason);
        else handler(result.code, result.reason, result.error);
      });
    }
  }

  pause(): void {
    this.#paused = true;
    if (this.#state !== 'closed') this.#raw.pause();
  }

  resume(): void {
    this.#paused = false;
    this.#pump();
  }

  close(code: number = WsCloseCode.NORMAL, reason = ''): void {
    if (!isSendableCloseCode(code)) {
      throw codedError(RangeError, ErrorCode.PROTOCOL, `Close code ${code} cannot be sent; expected 1000-1003, 1007-1014 or 3000-4999`);
    }
    if (new TextEncoder().encode(reason).byteLength > MAX_CLOSE_REASON_BYTES) {
      throw codedError(RangeError, ErrorCode.PROTOCOL, `Close reason is longer than ${MAX_CLOSE_REASON_BYTES} bytes`);
    }
    if (this.#state !== 'open') return;
    this.#state = 'closing';
    this.#localCode = code;
    this.#localReason = reason;
    this.#raw.close(code, reason);
    // The peer's close frame must be read even if the owner paused us or never set a handler.
    this.#queue = [];
    this.#raw.resume();
  }

  terminate(): void {
    if (this.#state === 'closed' || this.#terminated) return;
    this.#terminated = true;
    if (this.#state === 'open') this.#localCode = WsCloseCode.ABNORMAL;
    this.#state = 'closing';
    this.#queue = [];
    const socket = this.#socket;
    // end() rather than destroy(): flush what is queued, then TLS close_notify and FIN, which
    // is how an HTTP server drops an idle keep-alive connection. destroy() follows once the
    // FIN is out, or after a bound if the peer stopped reading.
    const timer = startTimer(() => socket.destroy(), TERMINATE_FLUSH_MS);
    socket.once('close', () => stopTimer(timer));
    socket.once('finish', () => socket.destroy());
    socket.end();
  }

  #receive(data: RawData, isBinary: boolean): void {
    if (this.#state !== 'open') return;
    if (!isBinary) {
      this.#abort(
        WsCloseCode.UNSUPPORTED_DATA,
        codedError(TypeError, ErrorCode.PROTOCOL, 'Received a text WebSocket message; only binary messages are accepted'),
      );
      return;
    }
    const view = toView(data);
    const handler = this.#onMessage;
    if (handler === null || this.#paused || this.#queue.length > 0) {
      this.#queue.push(view);
      return;
    }
    this.#guard(handler, view);
  }

  /**
   * Runs an owner's handler inside a socket callback. A throw must not become an uncaught
   * exception that takes the process down, so it ends this connection instead (1011) and
   * reaches the owner as the `error` of onClose.
   */
  #guard<A extends unknown[]>(handler: (...args: A) => void, ...args: A): void {
    try {
      handler(...args);
    } catch (err) {
      this.#abort(WsCloseCode.INTERNAL_ERROR, err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Delivers queued messages (in a microtask, so a resume() inside a handler never re-enters it) and reopens the socket. */
  #pump(): void {
    if (this.#flushScheduled || this.#paused || this.#onMessage === null || this.#state !== 'open') return;
    if (this.#queue.length === 0) {
      this.#raw.resume();
      return;
    }
    this.#flushScheduled = true;
    queueMicrotask(() => {
      this.#flushScheduled = false;
      while (this.#queue.length > 0 && !this.#paused && this.#state === 'open' && this.#onMessage !== null) {
        this.#guard(this.#onMessage, this.#queue.shift() as Uint8Array);
      }
      if (this.#queue.length === 0) this.#pump();
    });
  }

  #abort(code: number, error: Error): void {
    if (this.#state !== 'open') return;
    this.#state = 'closing';
    this.#localCode = code;
    this.#error = error;
    this.#queue = [];
    this.#raw.close(code);
    this.#raw.resume();
  }

  #fail(err: Error): void {
    if (this.#terminated || this.#error !== undefined) return;
    const wsCode = (err as { code?: unknown }).code;
    if (wsCode === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
      this.#localCode ??= WsCloseCode.MESSAGE_TOO_BIG;
      this.#error = codedError(RangeError, ErrorCode.FRAME_TOO_LARGE, `Received a WebSocket message larger than maxPayload (${this.#limits.maxPayload} bytes)`, err);
    } else if (typeof wsCode === 'string' && wsCode.startsWith('WS_ERR_')) {
      this.#localCode ??= wsCode === 'WS_ERR_INVALID_UTF8' ? WsCloseCode.INVALID_PAYLOAD : WsCloseCode.PROTOCOL_ERROR;
      this.#error = codedError(Error, ErrorCode.PROTOCOL, `Peer broke the WebSocket framing rules: ${err.message}`, err);
    } else {
      this.#error = codedError(Error, ErrorCode.CLOSED, `WebSocket transport failed: ${err.message}`, err);
    }
    if (this.#state === 'open') this.#state = 'closing';
  }

  #finish(code: number, reason: Buffer): void {
    if (this.#result !== null) return;
    const local = this.#localCode !== undefined;
    const result = {
      code: local ? (this.#localCode as number) : code,
      reason: local ? this.#localReason : reason.toString('utf8'),
      error: this.#error,
    };
    this.#result = result;
    this.#state = 'closed';
    this.#queue = [];
    this.#onMessage = null;
    this.#onDrain = null;
    const handler = this.#onClose;
    if (handler === null) return;
    if (result.error === undefined) handler(result.code, result.reason);
    else handler(result.code, result.reason, result.error);
  }
}

import { codedError, ErrorCode } from '../errors.ts';

/**
 * The runtime-neutral WebSocket connection every core module talks to (modelled on hono's
 * `WSContext`). Binary messages only: the tunnel never sends text, so a text frame from the
 * peer is a protocol error. The adapters (websocket-node.ts) map a concrete library onto it.
 */

/** Close status codes the adapters produce or expect (RFC 6455 section 7.4.1). */
export const WsCloseCode = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  UNSUPPORTED_DATA: 1003,
  NO_STATUS: 1005,
  ABNORMAL: 1006,
  INVALID_PAYLOAD: 1007,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
} as const;

/** Room to leave in front of a payload for sendWithHeadroom: the longest frame header (RFC 6455 section 5.2: 2 + 8 length + 4 mask bytes). */
export const WS_HEADROOM = 14;

/** Lifecycle of an open connection: 'closing' after close(), 'closed' once onClose fired. */
export type WsReadyState = 'open' | 'closing' | 'closed';

/**
 * Called once per received binary message. The handler owns `data`: the connection keeps no
 * reference to it and never reuses its memory, so the handler may change it in place (the
 * secure channel decrypts there).
 */
export type WsMessageHandler = (data: Uint8Array) => void;

/**
 * Called exactly once when the connection is gone. `code` is the status from the peer's close
 * frame, or the one we sent when we closed first (1009 for an oversized message, 1003 for a text
 * frame), or 1006 when the transport ended without a closing handshake (including terminate()).
 * `error` is set when a local failure (limit, protocol, socket error) ended the connection.
 */
export type WsCloseHandler = (code: number, reason: string, error?: Error) => void;

/** Hard limits and send-queue watermarks for one connection. */
export interface WsLimits {
  /** Largest accepted message in bytes; a bigger one closes the connection with 1009. */
  maxPayload: number;
  /** send() returns false once bufferedAmount reaches this many bytes. */
  highWaterMark: number;
  /** onDrain fires when bufferedAmount falls to this many bytes or fewer after send() returned false. */
  lowWaterMark: number;
  /** After close() (ours or a limit's), how long to wait for the peer's close frame before dropping the socket. */
  closeTimeoutMs: number;
}

/** Defaults for WsLimits: 1 MiB messages, 1 MiB / 256 KiB send watermarks, 5 s closing handshake. */
export const DEFAULT_WS_LIMITS: Readonly<WsLimits> = {
  maxPayload: 1 << 20,
  highWaterMark: 1 << 20,
  lowWaterMark: 1 << 18,
  closeTimeoutMs: 5_000,
};

/**
 * Fills WsLimits from partial options and checks them: positive integers, and
 * lowWaterMark <= highWaterMark. Throws BAD_CONFIG naming the field.
 */
export function resolveWsLimits(options: Partial<WsLimits>, defaults: Readonly<WsLimits> = DEFAULT_WS_LIMITS): WsLimits {
  const limits: WsLimits = {
    maxPayload: options.maxPayload ?? defaults.maxPayload,
    highWaterMark: options.highWaterMark ?? defaults.highWaterMark,
    lowWaterMark: options.lowWaterMark ?? Math.min(defaults.lowWaterMark, options.highWaterMark ?? defaults.highWaterMark),
    closeTimeoutMs: options.closeTimeoutMs ?? defaults.closeTimeoutMs,
  };
  for (const field of ['maxPayload', 'highWaterMark', 'lowWaterMark', 'closeTimeoutMs'] as const) {
    const value = limits[field];
    if (!Number.isSafeInteger(value) || value < (field === 'lowWaterMark' ? 0 : 1)) {
      throw codedError(RangeError, ErrorCode.BAD_CONFIG, `${field} must be a ${field === 'lowWaterMark' ? 'non-negative' : 'positive'} integer, got ${value}`);
    }
  }
  if (limits.lowWaterMark > limits.highWaterMark) {
    throw codedError(RangeError, ErrorCode.BAD_CONFIG, `lowWaterMark (${limits.lowWaterMark}) must not exceed highWaterMark (${limits.highWaterMark})`);
  }
  return limits;
}

/** One open, binary-only WebSocket connection (server- or client-side). */
export interface WsConnection {
  /** Peer IP address as seen on the socket ('' if the runtime did not report one). */
  readonly remoteAddress: string;
  /** Peer port as seen on the socket (0 if unknown). */
  readonly remotePort: number;
  /** Bytes queued for sending and not yet handed to the kernel. */
  readonly bufferedAmount: number;
  /** See WsReadyState. */
  readonly readyState: WsReadyState;
  /**
   * Queues one binary message. Takes ownership of `data` (do not modify it afterwards; the bytes
   * are written without a copy). Returns false when bufferedAmount reached highWaterMark: stop
   * sending and wait for onDrain. After close() or terminate() it drops the data and returns false.
   */
  send(data: Uint8Array): boolean;
  /**
   * Optional: queues ONE binary message, `buffer[headroom, end)`, writing its frame header into
   * the free bytes in front of it (`headroom` >= WS_HEADROOM): one write, no header array, no
   * copy. Takes ownership of `buffer` (the payload may be masked in place). Same return value as send().
   */
  sendWithHeadroom?(buffer: Uint8Array, headroom: number): boolean;
  /**
   * Sets the message handler (replacing any previous one). Until one is set, the connection
   * stops reading from the network, so messages are never lost to a late registration. Each
   * message is a plain Uint8Array view (no copy) that the handler may keep.
   */
  onMessage(handler: WsMessageHandler): void;
  /** Sets the handler called when the send queue drains after send() returned false. */
  onDrain(handler: () => void): void;
  /** Sets the close handler; if the connection is already closed it is called soon after. */
  onClose(handler: WsCloseHandler): void;
  /** Stops reading from the network (receive backpressure); no onMessage calls until resume(). */
  pause(): void;
  /** Undoes pause(). */
  resume(): void;
  /** Starts the closing handshake (RFC 6455 section 7.1.2); default code 1000. */
  close(code?: number, reason?: string): void;
  /**
   * Ends the transport without a WebSocket close frame, the way a server closes an idle socket
   * (TLS close_notify and TCP FIN once queued bytes are flushed). Used to answer a failed
   * handshake without telling a prober anything.
   */
  terminate(): void;
}

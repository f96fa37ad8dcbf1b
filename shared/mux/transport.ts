/**
 * The message transport a mux session runs over: ordered, reliable, message-preserving. One
 * `send` is one message on the wire. The members are a subset of the runtime-neutral
 * `WsConnection` (shared/runtime/websocket.ts), so a plain WebSocket, the Noise channel
 * (shared/channel) and the in-memory pair used by tests all fit.
 */
export interface MessageTransport {
  /**
   * Queues one whole message. Returns false once the send queue is full: the mux then stops
   * moving DATA until `onDrain`. After close it drops the message (and returns false).
   */
  send(message: Uint8Array): boolean;
  /** Bytes accepted by `send` and not yet handed to the network. */
  readonly bufferedAmount: number;
  /**
   * True when `send` is done with the bytes before it returns (it encrypted or copied them),
   * so the caller may reuse the buffer at once. When absent, the mux hands over a fresh copy.
   */
  readonly sendCopies?: boolean;
  /** Sets the handler for inbound messages. */
  onMessage(handler: (message: Uint8Array) => void): void;
  /** Sets the handler called when the send queue drained after `send` returned false. */
  onDrain(handler: () => void): void;
  /** Sets the handler called once when the transport is gone; `error` when a failure ended it. */
  onClose(handler: (code: number, reason: string, error?: Error) => void): void;
  /** Closes the transport (a WebSocket close; queued messages still go out first). */
  close(code?: number, reason?: string): void;
  /** Drops the transport without a closing handshake (used when the peer is dead). */
  terminate?(): void;
}

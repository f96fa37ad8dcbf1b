/**
 * A Noise transport over a WebSocket: after the handshake, each binary WebSocket message is one
 * Noise transport message (docs/protocol.md section 1). Outgoing plaintext is encrypted in call
 * order and incoming ciphertext decrypted in arrival order, so both counter nonces stay in step
 * (Noise spec 5.1; the CipherStates rekey in lockstep on their own). It is a MessageTransport,
 * so a MuxSession runs on it directly.
 */
import { codedError, ErrorCode } from '../errors.ts';
import type { CipherState } from '../crypto/cipher-state.ts';
import { TAG_LENGTH } from '../crypto/types.ts';
import { uninitializedBytes } from '../runtime/uninitialized.ts';
import { WS_HEADROOM, type WsConnection } from '../runtime/websocket.ts';
import type { MessageTransport } from '../mux/transport.ts';

/** The transport ciphers of one side (HandshakeState.split()). */
export interface ChannelCiphers {
  readonly send: CipherState;
  readonly recv: CipherState;
}

/** An encrypted, message-preserving transport over one WebSocket. */
export class SecureChannel implements MessageTransport {
  /** send() encrypts into a new buffer, so callers may reuse theirs at once. */
  readonly sendCopies = true;
  /** The WebSocket underneath (for addresses; do not send on it directly). */
  readonly ws: WsConnection;

  readonly #send: CipherState;
  readonly #recv: CipherState;
  #failure: Error | null = null;
  #closed = false;

  /** Takes over `ws` (expected paused, as the handshake leaves it) and owns the ciphers. */
  constructor(ws: WsConnection, ciphers: ChannelCiphers) {
    this.ws = ws;
    this.#send = ciphers.send;
    this.#recv = ciphers.recv;
    // Until the owner registers its own handler, closing still wipes the keys.
    ws.onClose(() => this.#destroy());
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /** The error that made the channel drop the connection (decrypt or nonce failure), if any. */
  get failure(): Error | null {
    return this.#failure;
  }

  /** Encrypts and sends one message; false when the WebSocket's queue is full or the channel is closed. */
  send(plaintext: Uint8Array): boolean {
    if (this.#closed) return false;
    try {
      // Where the socket takes a frame header in front of the payload, the message is sealed
      // straight into one buffer with room for it: one socket write per message instead of a
      // writev of header and parts (about 4 us less CPU per message in the 64 B echo).
      if (this.ws.sendWithHeadroom !== undefined) {
        const out = uninitializedBytes(WS_HEADROOM + plaintext.length + TAG_LENGTH);
        this.#send.encryptInto(out, WS_HEADROOM, plaintext);
        return this.ws.sendWithHeadroom(out, WS_HEADROOM);
      }
      return this.ws.send(this.#send.encrypt(plaintext));
    } catch (err) {
      this.#fail(err);
      return false;
    }
  }

  /** Sets the plaintext handler and starts reading (messages that arrived meanwhile were held by the paused socket). */
  onMessage(handler: (message: Uint8Array) => void): void {
    this.ws.onMessage((ciphertext) => {
      if (this.#closed) return;
      let plaintext: Uint8Array;
      try {
        // The WebSocket hands over each message's buffer and keeps no use for it: decrypting
        // it where it lies saves an allocation per message.
        plaintext = this.#recv.decryptInPlace(ciphertext);
      } catch (err) {
        // Forged, corrupted, reordered or replayed: the stream of nonces is broken for good.
        this.#fail(err);
        return;
      }
      handler(plaintext);
    });
    this.ws.resume();
  }

  onDrain(handler: () => void): void {
    this.ws.onDrain(handler);
  }

  /** Sets the close handler; `error` is the channel's own failure when it caused the close. */
  onClose(handler: (code: number, reason: string, error?: Error) => void): void {
    this.ws.onClose((code, reason, error) => {
      this.#destroy();
      const cause = this.#failure ?? error;
      if (cause === undefined) handler(code, reason);
      else handler(code, reason, cause);
    });
  }

  close(code?: number, reason?: string): void {
    this.ws.close(code, reason);
  }

  terminate(): void {
    this.ws.terminate();
  }

  #fail(err: unknown): void {
    if (this.#failure !== null) return;
    const coded = err instanceof Error && (err as { code?: unknown }).code !== undefined;
    this.#failure = coded ? (err as Error) : codedError(Error, ErrorCode.DECRYPT_FAILED, 'Channel message could not be processed', err);
    this.#closed = true;
    this.ws.terminate();
  }

  #destroy(): void {
    this.#closed = true;
    this.#send.destroy();
    this.#recv.destroy();
  }
}

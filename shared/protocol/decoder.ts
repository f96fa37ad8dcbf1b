/**
 * Incremental frame decoder for a byte stream split anywhere: an explicit state machine over a
 * ByteQueue, shaped like websockets/ws lib/receiver.js (named states, `consume(n)`, hard
 * limits). It is pull-based: the owner pushes chunks and calls `next()` until it returns
 * undefined. Nothing here throws once constructed; a failure moves the decoder to FAILED and
 * is reported through `error`, and every later call is a no-op.
 */
import { codedError, ErrorCode, type CodedError } from '../errors.ts';
import { ByteQueue } from './byte-queue.ts';
import { readU16, readU32 } from './bytes.ts';
import {
  DEFAULT_MAX_BUFFERED_BYTES,
  DEFAULT_MAX_FRAME_LENGTH,
  FRAME_HEADER_LENGTH,
  MAX_FRAME_LENGTH,
  type FrameTypeValue,
} from './constants.ts';
import { checkHeader, decodeBody } from './decode.ts';
import type { Frame } from './frame.ts';

/** Decoder states. */
export const DecoderState = {
  /** Waiting for the 8-byte header of the next frame. */
  HEADER: 'header',
  /** Header read and checked; waiting for `length` body bytes. */
  BODY: 'body',
  /** A frame was refused or a limit hit; `error` says why. Terminal. */
  FAILED: 'failed',
  /** `end()` was called on a frame boundary. Terminal. */
  ENDED: 'ended',
} as const;

/** One of the DecoderState values. */
export type DecoderStateValue = (typeof DecoderState)[keyof typeof DecoderState];

/** Limits of a FrameDecoder. */
export interface FrameDecoderOptions {
  /** Largest frame body accepted (our advertised maxFrameLength); default 16384. */
  maxFrameLength?: number;
  /** Largest number of unread bytes held; must be >= 8 + maxFrameLength. Default 262144. */
  maxBufferedBytes?: number;
}

/** Incremental frame decoder; see the module comment for the calling pattern. */
export class FrameDecoder {
  /** Largest frame body accepted. */
  readonly maxFrameLength: number;
  /** Largest number of unread bytes held at any time. */
  readonly maxBufferedBytes: number;
  #queue = new ByteQueue();
  #state: DecoderStateValue = DecoderState.HEADER;
  #error: CodedError | undefined;
  #type: FrameTypeValue = 0;
  #flags = 0;
  #length = 0;
  #streamId = 0;

  /** Throws BAD_CONFIG (RangeError) for limits out of range; never throws afterwards. */
  constructor(options: FrameDecoderOptions = {}) {
    const maxFrameLength = options.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH;
    const maxBufferedBytes = options.maxBufferedBytes ?? Math.max(DEFAULT_MAX_BUFFERED_BYTES, FRAME_HEADER_LENGTH + maxFrameLength);
    if (!Number.isInteger(maxFrameLength) || maxFrameLength < 0 || maxFrameLength > MAX_FRAME_LENGTH) {
      throw codedError(RangeError, ErrorCode.BAD_CONFIG, `maxFrameLength must be an integer 0-${MAX_FRAME_LENGTH}, got ${maxFrameLength}`);
    }
    // A smaller buffer could never hold a maximal frame, and the decoder would stall on it.
    if (!Number.isInteger(maxBufferedBytes) || maxBufferedBytes < FRAME_HEADER_LENGTH + maxFrameLength) {
      throw codedError(
        RangeError,
        ErrorCode.BAD_CONFIG,
        `maxBufferedBytes must be an integer >= ${FRAME_HEADER_LENGTH + maxFrameLength} (header + maxFrameLength), got ${maxBufferedBytes}`,
      );
    }
    this.maxFrameLength = maxFrameLength;
    this.maxBufferedBytes = maxBufferedBytes;
  }

  /** Current state. */
  get state(): DecoderStateValue {
    return this.#state;
  }

  /** Why the decoder failed, once it has. */
  get error(): CodedError | undefined {
    return this.#error;
  }

  /** Bytes pushed and not yet consumed (never above maxBufferedBytes). */
  get bufferedBytes(): number {
    return this.#queue.size;
  }

  /**
   * Queues a chunk (kept by reference: do not reuse it). Returns false, queuing nothing, when
   * the decoder is FAILED or ENDED, or when the chunk would exceed maxBufferedBytes, which
   * fails the decoder with BUFFER_LIMIT: drain with `next()` after every push.
   */
  push(chunk: Uint8Array): boolean {
    if (this.#state === DecoderState.FAILED || this.#state === DecoderState.ENDED) return false;
    if (this.#queue.size + chunk.length > this.maxBufferedBytes) {
      this.#fail(
        codedError(
          RangeError,
          ErrorCode.BUFFER_LIMIT,
          `Decoder would hold ${this.#queue.size + chunk.length} bytes, limit is ${this.maxBufferedBytes}`,
        ),
      );
      return false;
    }
    this.#queue.push(chunk);
    return true;
  }

  /** The next whole frame, or undefined when more bytes are needed or the decoder stopped. */
  next(): Frame | undefined {
    for (;;) {
      switch (this.#state) {
        case DecoderState.HEADER: {
          if (this.#queue.size < FRAME_HEADER_LENGTH) return undefined;
          const h = this.#queue.consume(FRAME_HEADER_LENGTH);
          const type = h[0]!;
          const flags = h[1]!;
          const length = readU16(h, 2);
          const streamId = readU32(h, 4);
          try {
            checkHeader(type, flags, length, streamId, this.maxFrameLength);
          } catch (err) {
            this.#fail(err);
            return undefined;
          }
          this.#type = type as FrameTypeValue;
          this.#flags = flags;
          this.#length = length;
          this.#streamId = streamId;
          this.#state = DecoderState.BODY;
          break;
        }
        case DecoderState.BODY: {
          if (this.#queue.size < this.#length) return undefined;
          const body = this.#queue.consume(this.#length);
          this.#state = DecoderState.HEADER;
          try {
            return decodeBody(this.#type, this.#flags, this.#streamId, body, 0, body.length);
          } catch (err) {
            this.#fail(err);
            return undefined;
          }
        }
        default:
          return undefined;
      }
    }
  }

  /**
   * Marks the end of input. Returns undefined (state ENDED) when it fell on a frame boundary
   * with nothing unread; otherwise fails with TRUNCATED (or returns the earlier error).
   * Call after draining with `next()`.
   */
  end(): CodedError | undefined {
    if (this.#state === DecoderState.FAILED) return this.#error;
    if (this.#state === DecoderState.ENDED) return undefined;
    if (this.#state === DecoderState.HEADER && this.#queue.size === 0) {
      this.#state = DecoderState.ENDED;
      return undefined;
    }
    const want = this.#state === DecoderState.BODY ? `a ${this.#length}-byte frame body` : 'a frame header';
    this.#fail(codedError(RangeError, ErrorCode.TRUNCATED, `Input ended with ${this.#queue.size} bytes of ${want}`));
    return this.#error;
  }

  #fail(err: unknown): void {
    this.#state = DecoderState.FAILED;
    this.#queue.clear();
    this.#error =
      err instanceof Error && typeof (err as { code?: unknown }).code === 'string'
        ? (err as CodedError)
        : codedError(Error, ErrorCode.BAD_FRAME, 'Frame decoding failed unexpectedly', err);
  }
}

/**
 * Batches frames into one preallocated buffer, so one Noise transport message (one WebSocket
 * message) carries as many frames as fit. The buffer is allocated once per batch and reused
 * after every `take()`: the DATA path costs one copy (payload into the buffer) and no
 * per-frame allocation.
 */
import { codedError, ErrorCode } from '../errors.ts';
import { isU32 } from './bytes.ts';
import {
  DEFAULT_MAX_FRAME_LENGTH,
  FRAME_HEADER_LENGTH,
  FrameType,
  MAX_FRAME_LENGTH,
  MAX_MESSAGE_PLAINTEXT,
  PAD_LENGTH_FIELD,
} from './constants.ts';
import { encodeFrameAt, writeDataFrame } from './encode.ts';
import type { Frame } from './frame.ts';

/** Sizes of a FrameBatch. */
export interface FrameBatchOptions {
  /** Bytes per message; default and maximum 65519 (65535 minus the 16-byte Noise tag). */
  capacity?: number;
  /** The PEER's advertised max frame body (its hello); default 16384. */
  maxFrameLength?: number;
}

/** A reusable message buffer that frames are appended to. */
export class FrameBatch {
  /** Bytes per message. */
  readonly capacity: number;
  /** Largest frame body written (the peer's limit). */
  readonly maxFrameLength: number;
  #buf: Uint8Array;
  #length = 0;
  #frames = 0;

  /** Throws BAD_CONFIG (RangeError) for sizes out of range. */
  constructor(options: FrameBatchOptions = {}) {
    const capacity = options.capacity ?? MAX_MESSAGE_PLAINTEXT;
    const maxFrameLength = options.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH;
    if (!Number.isInteger(capacity) || capacity < FRAME_HEADER_LENGTH || capacity > MAX_MESSAGE_PLAINTEXT) {
      throw codedError(RangeError, ErrorCode.BAD_CONFIG, `capacity must be an integer ${FRAME_HEADER_LENGTH}-${MAX_MESSAGE_PLAINTEXT}, got ${capacity}`);
    }
    if (!Number.isInteger(maxFrameLength) || maxFrameLength < FRAME_HEADER_LENGTH || maxFrameLength > MAX_FRAME_LENGTH) {
      throw codedError(
        RangeError,
        ErrorCode.BAD_CONFIG,
        `maxFrameLength must be an integer ${FRAME_HEADER_LENGTH}-${MAX_FRAME_LENGTH}, got ${maxFrameLength}`,
      );
    }
    this.capacity = capacity;
    this.maxFrameLength = maxFrameLength;
    this.#buf = new Uint8Array(capacity);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#length;
  }

  /** Bytes still free. */
  get remaining(): number {
    return this.capacity - this.#length;
  }

  /** Frames written so far. */
  get frameCount(): number {
    return this.#frames;
  }

  /**
   * Appends `frame`; false (nothing written) when it does not fit in what is left. Throws
   * BAD_FRAME for invalid fields and FRAME_TOO_LARGE above maxFrameLength.
   */
  append(frame: Frame): boolean {
    const next = encodeFrameAt(frame, this.#buf, this.#length, this.capacity, this.maxFrameLength);
    if (next < 0) return false;
    this.#length = next;
    this.#frames++;
    return true;
  }

  /**
   * Appends one DATA frame carrying as much of `payload` as fits (bounded by the space left and
   * maxFrameLength, less `pad` padding; 0 = unpadded); returns how many payload bytes it took,
   * 0 when none fit. An empty payload writes nothing (use `append` for an empty DATA frame).
   */
  appendData(streamId: number, payload: Uint8Array, pad = 0): number {
    if (!isU32(streamId) || streamId === 0) {
      throw codedError(RangeError, ErrorCode.BAD_FRAME, `Stream id must be an integer 1-4294967295, got ${streamId}`);
    }
    if (!Number.isInteger(pad) || pad < 0 || pad > 0xffff) {
      throw codedError(RangeError, ErrorCode.BAD_FRAME, `Frame pad must be an integer 0-65535, got ${pad}`);
    }
    const padBytes = pad > 0 ? PAD_LENGTH_FIELD + pad : 0;
    const room = Math.min(this.remaining - FRAME_HEADER_LENGTH, this.maxFrameLength) - padBytes;
    const n = Math.min(payload.length, room);
    if (n <= 0) return 0;
    const chunk = n === payload.length ? payload : payload.subarray(0, n);
    if (padBytes === 0) {
      this.#length = writeDataFrame(this.#buf, this.#length, streamId, chunk);
    } else {
      this.#length = encodeFrameAt({ type: FrameType.DATA, streamId, payload: chunk, pad }, this.#buf, this.#length, this.capacity, this.maxFrameLength);
    }
    this.#frames++;
    return n;
  }

  /**
   * Appends PADDING frames so the message is exactly `total` bytes; false (nothing written) when
   * that is impossible: `total` below the current length or above capacity, or a gap of 1-7
   * bytes, too small for a frame header.
   */
  padTo(total: number): boolean {
    let gap = total - this.#length;
    if (!Number.isInteger(total) || total > this.capacity || gap < 0) return false;
    if (gap > 0 && gap < FRAME_HEADER_LENGTH) return false;
    while (gap > 0) {
      let body = gap - FRAME_HEADER_LENGTH;
      // Leave at least a header's worth for the next PADDING frame.
      if (body > this.maxFrameLength) body = Math.min(this.maxFrameLength, gap - 2 * FRAME_HEADER_LENGTH);
      this.#length = encodeFrameAt({ type: FrameType.PADDING, length: body }, this.#buf, this.#length, this.capacity, this.maxFrameLength);
      this.#frames++;
      gap -= FRAME_HEADER_LENGTH + body;
    }
    return true;
  }

  /**
   * Returns the message written so far and empties the batch. The result is a view of the
   * batch's own buffer, valid until the next append: encrypt or copy it before appending again.
   */
  take(): Uint8Array {
    const out = this.#buf.subarray(0, this.#length);
    this.#length = 0;
    this.#frames = 0;
    return out;
  }

  /** Empties the batch without returning it. */
  reset(): void {
    this.#length = 0;
    this.#frames = 0;
  }
}

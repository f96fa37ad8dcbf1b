/**
 * Frame encoders (layout: docs/protocol.md section 2). Every encoder writes into a caller's
 * buffer at an offset, so several frames can share one preallocated Noise plaintext buffer;
 * `encodeFrame` and `encodeFrames` are conveniences that allocate exactly once.
 */
import { codedError, ErrorCode } from '../errors.ts';
import { endpointLength, writeEndpoint } from './address.ts';
import { isU32, writeU16, writeU32 } from './bytes.ts';
import { isCloseCode, isOpenFailReason } from './codes.ts';
import {
  FRAME_HEADER_LENGTH,
  FrameFlag,
  FrameType,
  MAX_FRAME_LENGTH,
  MAX_TAG_LENGTH,
  MAX_WINDOW,
  Network,
  PAD_LENGTH_FIELD,
  PING_OPAQUE_LENGTH,
} from './constants.ts';
import type { Frame } from './frame.ts';

function invalid(message: string): Error {
  return codedError(RangeError, ErrorCode.BAD_FRAME, message);
}

function checkStreamId(id: number): void {
  if (!isU32(id) || id === 0) throw invalid(`Stream id must be an integer 1-4294967295, got ${id}`);
}

/** Bytes the PADDED layout adds; -1 when `pad` is absent (no PADDED flag). */
function padOverhead(pad: number | undefined): number {
  if (pad === undefined) return -1;
  if (!Number.isInteger(pad) || pad < 0 || pad > 0xffff) {
    throw invalid(`Frame pad must be an integer 0-65535, got ${pad}`);
  }
  return PAD_LENGTH_FIELD + pad;
}

/** Validates `frame` and returns the length of its content (body without padding). */
function contentLength(frame: Frame): number {
  switch (frame.type) {
    case FrameType.DATA:
      checkStreamId(frame.streamId);
      return frame.payload.length;
    case FrameType.OPEN: {
      checkStreamId(frame.streamId);
      if (frame.network !== Network.TCP && frame.network !== Network.UDP) {
        throw invalid(`OPEN network must be 1 (tcp) or 2 (udp), got ${String(frame.network)}`);
      }
      const tagLength = frame.tag?.length ?? 0;
      if (tagLength > MAX_TAG_LENGTH) throw invalid(`OPEN tag must be at most ${MAX_TAG_LENGTH} bytes, got ${tagLength}`);
      return 1 + endpointLength(frame.address) + 1 + tagLength;
    }
    case FrameType.OPEN_OK:
    case FrameType.FIN:
      checkStreamId(frame.streamId);
      return 0;
    case FrameType.OPEN_FAIL:
      checkStreamId(frame.streamId);
      if (!isOpenFailReason(frame.reason)) throw invalid(`OPEN_FAIL reason ${String(frame.reason)} is not defined`);
      return 1;
    case FrameType.RESET:
      checkStreamId(frame.streamId);
      if (!isCloseCode(frame.code)) throw invalid(`RESET code ${String(frame.code)} is not defined`);
      return 1;
    case FrameType.WINDOW:
      if (!isU32(frame.streamId)) throw invalid(`Stream id must be an integer 0-4294967295, got ${frame.streamId}`);
      if (!Number.isInteger(frame.increment) || frame.increment < 1 || frame.increment > MAX_WINDOW) {
        throw invalid(`WINDOW increment must be an integer 1-${MAX_WINDOW}, got ${frame.increment}`);
      }
      return 4;
    case FrameType.PING:
    case FrameType.PONG:
      if (frame.opaque.length !== PING_OPAQUE_LENGTH) {
        throw invalid(`PING/PONG opaque data must be ${PING_OPAQUE_LENGTH} bytes, got ${frame.opaque.length}`);
      }
      return PING_OPAQUE_LENGTH;
    case FrameType.DATAGRAM:
      checkStreamId(frame.streamId);
      return endpointLength(frame.address) + frame.payload.length;
    case FrameType.GOAWAY:
      if (!isU32(frame.lastStreamId)) {
        throw invalid(`GOAWAY last stream id must be an integer 0-4294967295, got ${frame.lastStreamId}`);
      }
      if (!isCloseCode(frame.code)) throw invalid(`GOAWAY code ${String(frame.code)} is not defined`);
      return 5;
    case FrameType.PADDING:
      if (!Number.isInteger(frame.length) || frame.length < 0) {
        throw invalid(`PADDING length must be a non-negative integer, got ${frame.length}`);
      }
      return frame.length;
    default:
      throw codedError(
        TypeError,
        ErrorCode.UNKNOWN_FRAME_TYPE,
        `Frame type ${String((frame as { type: unknown }).type)} is not defined`,
      );
  }
}

function streamIdOf(frame: Frame): number {
  switch (frame.type) {
    case FrameType.PING:
    case FrameType.PONG:
    case FrameType.GOAWAY:
    case FrameType.PADDING:
      return 0;
    default:
      return frame.streamId;
  }
}

/** Writes the content (body minus padding) of a validated frame at `p`. */
function writeContent(frame: Frame, out: Uint8Array, p: number): number {
  switch (frame.type) {
    case FrameType.DATA:
      out.set(frame.payload, p);
      return p + frame.payload.length;
    case FrameType.OPEN: {
      out[p++] = frame.network;
      p = writeEndpoint(frame.address, out, p);
      const tag = frame.tag;
      out[p++] = tag?.length ?? 0;
      if (tag !== undefined) {
        out.set(tag, p);
        p += tag.length;
      }
      return p;
    }
    case FrameType.OPEN_OK:
    case FrameType.FIN:
      return p;
    case FrameType.OPEN_FAIL:
      out[p] = frame.reason;
      return p + 1;
    case FrameType.RESET:
      out[p] = frame.code;
      return p + 1;
    case FrameType.WINDOW:
      writeU32(out, p, frame.increment);
      return p + 4;
    case FrameType.PING:
    case FrameType.PONG:
      out.set(frame.opaque, p);
      return p + PING_OPAQUE_LENGTH;
    case FrameType.DATAGRAM:
      p = writeEndpoint(frame.address, out, p);
      out.set(frame.payload, p);
      return p + frame.payload.length;
    case FrameType.GOAWAY:
      writeU32(out, p, frame.lastStreamId);
      out[p + 4] = frame.code;
      return p + 5;
    case FrameType.PADDING:
      // Zeroed, never stale: the buffer is reused for other streams' plaintext.
      out.fill(0, p, p + frame.length);
      return p + frame.length;
  }
}

/** Total encoded size of `frame` (header, content, padding); validates every field. */
export function frameLength(frame: Frame): number {
  return FRAME_HEADER_LENGTH + contentLength(frame) + Math.max(0, padOverhead(frame.pad));
}

/**
 * Encodes `frame` at `out[offset]` unless it would pass `end`; returns the offset after it, or
 * -1 (nothing written) when it does not fit. Throws BAD_FRAME for invalid fields and
 * FRAME_TOO_LARGE when the body exceeds `maxFrameLength`.
 */
export function encodeFrameAt(
  frame: Frame,
  out: Uint8Array,
  offset: number,
  end: number = out.length,
  maxFrameLength: number = MAX_FRAME_LENGTH,
): number {
  const content = contentLength(frame);
  const padded = padOverhead(frame.pad);
  const body = content + Math.max(0, padded);
  if (body > maxFrameLength) {
    throw codedError(RangeError, ErrorCode.FRAME_TOO_LARGE, `Frame body of ${body} bytes exceeds ${maxFrameLength}`);
  }
  if (offset + FRAME_HEADER_LENGTH + body > end) return -1;
  out[offset] = frame.type;
  out[offset + 1] = padded >= 0 ? FrameFlag.PADDED : 0;
  writeU16(out, offset + 2, body);
  writeU32(out, offset + 4, streamIdOf(frame));
  let p = offset + FRAME_HEADER_LENGTH;
  if (padded >= 0) {
    const pad = padded - PAD_LENGTH_FIELD;
    writeU16(out, p, pad);
    p = writeContent(frame, out, p + PAD_LENGTH_FIELD);
    out.fill(0, p, p + pad);
    return p + pad;
  }
  return writeContent(frame, out, p);
}

/**
 * Encodes `frame` into `out` at `offset`; returns the offset after it. Throws BUFFER_LIMIT
 * when `out` has no room, plus the errors of encodeFrameAt.
 */
export function encodeFrameInto(
  frame: Frame,
  out: Uint8Array,
  offset: number,
  maxFrameLength: number = MAX_FRAME_LENGTH,
): number {
  const next = encodeFrameAt(frame, out, offset, out.length, maxFrameLength);
  if (next < 0) {
    throw codedError(
      RangeError,
      ErrorCode.BUFFER_LIMIT,
      `Output has ${out.length - offset} bytes left at offset ${offset}, frame needs ${frameLength(frame)}`,
    );
  }
  return next;
}

/**
 * Hot path: writes one unpadded DATA frame of `payload` at `out[offset]` without building a
 * frame object; returns the offset after it. The caller checked stream id, room and size.
 */
export function writeDataFrame(out: Uint8Array, offset: number, streamId: number, payload: Uint8Array): number {
  out[offset] = FrameType.DATA;
  out[offset + 1] = 0;
  writeU16(out, offset + 2, payload.length);
  writeU32(out, offset + 4, streamId);
  out.set(payload, offset + FRAME_HEADER_LENGTH);
  return offset + FRAME_HEADER_LENGTH + payload.length;
}

/** One frame as a new Uint8Array of exactly its encoded size. */
export function encodeFrame(frame: Frame, maxFrameLength: number = MAX_FRAME_LENGTH): Uint8Array {
  const out = new Uint8Array(frameLength(frame));
  encodeFrameInto(frame, out, 0, maxFrameLength);
  return out;
}

/** Several frames back to back in one new Uint8Array (one Noise message's plaintext). */
export function encodeFrames(frames: readonly Frame[], maxFrameLength: number = MAX_FRAME_LENGTH): Uint8Array {
  let total = 0;
  for (const f of frames) total += frameLength(f);
  const out = new Uint8Array(total);
  let o = 0;
  for (const f of frames) o = encodeFrameInto(f, out, o, maxFrameLength);
  return out;
}

/**
 * One-shot frame decoding over a whole buffer (layout: docs/protocol.md section 2). This is the
 * hot path for a decrypted WebSocket message: no copies, payloads are subarrays of the input.
 * The header and body checks here are shared with the incremental FrameDecoder, so both accept
 * and refuse exactly the same bytes.
 */
import { codedError, ErrorCode } from '../errors.ts';
import { readEndpoint } from './address.ts';
import { readU16, readU32 } from './bytes.ts';
import { isCloseCode, isOpenFailReason } from './codes.ts';
import {
  FRAME_HEADER_LENGTH,
  FrameFlag,
  FrameType,
  MAX_FRAME_LENGTH,
  MAX_WINDOW,
  Network,
  PAD_LENGTH_FIELD,
  PING_OPAQUE_LENGTH,
  type FrameTypeValue,
} from './constants.ts';
import type { Frame } from './frame.ts';

function bad(message: string): Error {
  return codedError(SyntaxError, ErrorCode.BAD_FRAME, message);
}

/** True for types that only travel on stream 0. */
function isSessionType(type: number): boolean {
  return type === FrameType.PING || type === FrameType.PONG || type === FrameType.GOAWAY || type === FrameType.PADDING;
}

/**
 * Checks a frame header before its body is read, so an oversized frame is refused before a
 * byte of it is buffered. Throws UNKNOWN_FRAME_TYPE, BAD_FRAME or FRAME_TOO_LARGE.
 */
export function checkHeader(type: number, flags: number, length: number, streamId: number, maxFrameLength: number): void {
  if (type > FrameType.PADDING) {
    throw codedError(SyntaxError, ErrorCode.UNKNOWN_FRAME_TYPE, `Frame type 0x${type.toString(16)} is not defined`);
  }
  if ((flags & ~FrameFlag.PADDED) !== 0) throw bad(`Frame flags 0x${flags.toString(16)} set an undefined bit`);
  if (length > maxFrameLength) {
    throw codedError(RangeError, ErrorCode.FRAME_TOO_LARGE, `Frame body of ${length} bytes exceeds ${maxFrameLength}`);
  }
  if (isSessionType(type)) {
    if (streamId !== 0) throw bad(`Frame type ${type} must be on stream 0, got stream ${streamId}`);
  } else if (streamId === 0 && type !== FrameType.WINDOW) {
    throw bad(`Frame type ${type} must be on a stream other than 0`);
  }
}

function expectLength(type: number, got: number, want: number): void {
  if (got !== want) throw bad(`Frame type ${type} must have ${want} content bytes, got ${got}`);
}

/**
 * Decodes the body `b[start..end)` of a frame whose header passed checkHeader. Throws
 * BAD_FRAME when the body does not match its type.
 */
export function decodeBody(type: FrameTypeValue, flags: number, streamId: number, b: Uint8Array, start: number, end: number): Frame {
  let s = start;
  let e = end;
  let pad = -1;
  if ((flags & FrameFlag.PADDED) !== 0) {
    if (e - s < PAD_LENGTH_FIELD) throw bad('Padded frame is shorter than its pad length field');
    pad = readU16(b, s);
    s += PAD_LENGTH_FIELD;
    if (pad > e - s) throw bad(`Pad length ${pad} exceeds the ${e - s} bytes left in the frame`);
    e -= pad;
  }
  const n = e - s;
  let frame: Frame;
  switch (type) {
    case FrameType.DATA:
      frame = { type, streamId, payload: b.subarray(s, e) };
      break;
    case FrameType.OPEN: {
      if (n < 1) throw bad('OPEN is missing its network byte');
      const network = b[s]!;
      if (network !== Network.TCP && network !== Network.UDP) throw bad(`OPEN network ${network} is not 1 (tcp) or 2 (udp)`);
      const [address, p] = readEndpoint(b, s + 1, e);
      if (p >= e) throw bad('OPEN is missing its tag length');
      const tagLength = b[p]!;
      if (p + 1 + tagLength !== e) throw bad(`OPEN tag length ${tagLength} does not match the ${e - p - 1} bytes left`);
      frame = { type, streamId, network, address };
      if (tagLength > 0) frame.tag = b.subarray(p + 1, e);
      break;
    }
    case FrameType.OPEN_OK:
    case FrameType.FIN:
      expectLength(type, n, 0);
      frame = { type, streamId };
      break;
    case FrameType.OPEN_FAIL: {
      expectLength(type, n, 1);
      const reason = b[s]!;
      if (!isOpenFailReason(reason)) throw bad(`OPEN_FAIL reason ${reason} is not defined`);
      frame = { type, streamId, reason };
      break;
    }
    case FrameType.RESET: {
      expectLength(type, n, 1);
      const code = b[s]!;
      if (!isCloseCode(code)) throw bad(`RESET code ${code} is not defined`);
      frame = { type, streamId, code };
      break;
    }
    case FrameType.WINDOW: {
      expectLength(type, n, 4);
      const increment = readU32(b, s);
      if (increment < 1 || increment > MAX_WINDOW) throw bad(`WINDOW increment ${increment} is not 1-${MAX_WINDOW}`);
      frame = { type, streamId, increment };
      break;
    }
    case FrameType.PING:
    case FrameType.PONG:
      expectLength(type, n, PING_OPAQUE_LENGTH);
      frame = { type, opaque: b.subarray(s, e) };
      break;
    case FrameType.DATAGRAM: {
      const [address, p] = readEndpoint(b, s, e);
      frame = { type, streamId, address, payload: b.subarray(p, e) };
      break;
    }
    case FrameType.GOAWAY: {
      expectLength(type, n, 5);
      const code = b[s + 4]!;
      if (!isCloseCode(code)) throw bad(`GOAWAY code ${code} is not defined`);
      frame = { type, lastStreamId: readU32(b, s), code };
      break;
    }
    case FrameType.PADDING:
      frame = { type, length: n };
      break;
  }
  if (pad >= 0) frame.pad = pad;
  return frame;
}

/**
 * Decodes the frame at `buf[offset]`; returns it and the offset after it. Throws TRUNCATED when
 * the buffer ends inside the frame, plus the errors of checkHeader and decodeBody.
 */
export function decodeFrame(buf: Uint8Array, offset = 0, maxFrameLength: number = MAX_FRAME_LENGTH): [Frame, number] {
  if (buf.length - offset < FRAME_HEADER_LENGTH) {
    throw codedError(
      RangeError,
      ErrorCode.TRUNCATED,
      `Frame header needs ${FRAME_HEADER_LENGTH} bytes, ${buf.length - offset} left at offset ${offset}`,
    );
  }
  const type = buf[offset]!;
  const flags = buf[offset + 1]!;
  const length = readU16(buf, offset + 2);
  const streamId = readU32(buf, offset + 4);
  checkHeader(type, flags, length, streamId, maxFrameLength);
  const start = offset + FRAME_HEADER_LENGTH;
  if (buf.length - start < length) {
    throw codedError(RangeError, ErrorCode.TRUNCATED, `Frame body needs ${length} bytes, ${buf.length - start} left`);
  }
  return [decodeBody(type as FrameTypeValue, flags, streamId, buf, start, start + length), start + length];
}

/**
 * Decodes a whole message (one decrypted Noise transport message) into its frames. A message
 * holds one or more whole frames; trailing bytes that do not form a frame are TRUNCATED.
 */
export function decodeFrames(message: Uint8Array, maxFrameLength: number = MAX_FRAME_LENGTH): Frame[] {
  const frames: Frame[] = [];
  let o = 0;
  while (o < message.length) {
    const [frame, next] = decodeFrame(message, o, maxFrameLength);
    frames.push(frame);
    o = next;
  }
  return frames;
}

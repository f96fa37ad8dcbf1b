/**
 * WAL record framing, pure over Uint8Array. One record:
 *
 *   u32le payloadLength | u32le crc32c(length field) | u32le crc32c(payload) | payload
 *
 * where payload = u8 type + body. The length has its own checksum so that recovery can tell
 * a torn tail (a record cut short by a crash) from a flipped length bit in the middle of the
 * log: only a length that verifies is trusted to say where the record ends (LevelDB's log
 * format checksums length and type together for the same reason).
 */
import { crc32c } from './crc32c.ts';

/** Bytes before the payload. */
export const RECORD_HEADER_BYTES = 12;
/** Largest payload accepted on write or read (sanity bound; entries are small). */
export const MAX_RECORD_PAYLOAD = 256 * 1024 * 1024;

/** Record kinds. The first record of every segment is a SegmentHeader. */
export const RecordType = {
  SegmentHeader: 1,
  Entry: 2,
  HardState: 3,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

/**
 * Writes the header of a record whose payload (type byte + body) already sits at
 * `offset + RECORD_HEADER_BYTES` and is `payloadLength` bytes long. Returns the next offset.
 */
export function sealRecord(buf: Uint8Array, view: DataView, offset: number, payloadLength: number): number {
  if (payloadLength < 1 || payloadLength > MAX_RECORD_PAYLOAD) {
    throw new RangeError(`Record payload of ${payloadLength} bytes: expected 1..${MAX_RECORD_PAYLOAD}`);
  }
  const start = offset + RECORD_HEADER_BYTES;
  view.setUint32(offset, payloadLength, true);
  view.setUint32(offset + 4, crc32c(buf, offset, offset + 4), true);
  view.setUint32(offset + 8, crc32c(buf, start, start + payloadLength), true);
  return start + payloadLength;
}

/** What `scanRecord` found at an offset. */
export type ScanResult =
  | { status: 'ok'; type: number; bodyStart: number; end: number }
  /** Offset is exactly the end of the buffer. */
  | { status: 'end' }
  /** Fewer than RECORD_HEADER_BYTES remain. */
  | { status: 'short-header' }
  /** The length field fails its checksum. */
  | { status: 'bad-header' }
  /** The length verifies but is zero or above MAX_RECORD_PAYLOAD. */
  | { status: 'bad-length'; length: number }
  /** The length verifies but the payload runs past the end of the buffer. */
  | { status: 'short-payload'; end: number }
  /** The payload fails its checksum. */
  | { status: 'bad-payload'; end: number };

/** Examines the record at `offset`; never throws on bad input (recovery decides what it means). */
export function scanRecord(buf: Uint8Array, view: DataView, offset: number): ScanResult {
  const remaining = buf.length - offset;
  if (remaining === 0) return { status: 'end' };
  if (remaining < RECORD_HEADER_BYTES) return { status: 'short-header' };
  const length = view.getUint32(offset, true);
  if (view.getUint32(offset + 4, true) !== crc32c(buf, offset, offset + 4)) return { status: 'bad-header' };
  if (length < 1 || length > MAX_RECORD_PAYLOAD) return { status: 'bad-length', length };
  const bodyStart = offset + RECORD_HEADER_BYTES;
  const end = bodyStart + length;
  if (end > buf.length) return { status: 'short-payload', end };
  if (view.getUint32(offset + 8, true) !== crc32c(buf, bodyStart, end)) return { status: 'bad-payload', end };
  return { status: 'ok', type: buf[bodyStart]!, bodyStart: bodyStart + 1, end };
}

/** A DataView over exactly the bytes of `buf` (Node pools Buffers, so never `buf.buffer` alone). */
export function viewOf(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

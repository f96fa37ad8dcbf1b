/**
 * Bodies of the WAL records (pure codecs). Layouts, little-endian, after the type byte:
 *
 *   SegmentHeader: "APWL" | u8 version=1 | u8 flags (bit0 = reset) | u64 seq | u64 prevIndex
 *                  | u64 prevTerm
 *   Entry:         u64 term | u64 index | u8 entryType | data
 *   HardState:     u64 term | u64 commit | vote (UTF-8, rest of the body)
 *
 * A segment header says which log position the segment continues from (prevIndex/prevTerm:
 * the last entry written before it); with the reset flag it instead says "the log was
 * replaced by a snapshot at (prevIndex, prevTerm); forget every earlier segment".
 */
import type { Entry, HardState } from '../types.ts';
import { EntryType } from '../types.ts';
import { getU64, setU64, utf8, fromUtf8 } from './binary.ts';
import { RECORD_HEADER_BYTES, RecordType, sealRecord, viewOf } from './record.ts';

/** Parsed segment header record. */
export interface SegmentHeader {
  seq: number;
  reset: boolean;
  prevIndex: number;
  prevTerm: number;
}

const MAGIC = [0x41, 0x50, 0x57, 0x4c] as const; // "APWL"
const VERSION = 1;
const FLAG_RESET = 1;
const SEGMENT_HEADER_BODY = 4 + 1 + 1 + 8 + 8 + 8;
const ENTRY_FIXED = 8 + 8 + 1;
const HARD_STATE_FIXED = 8 + 8;

/** Encodes a segment header as one framed record. */
export function encodeSegmentHeader(h: SegmentHeader): Uint8Array {
  const buf = new Uint8Array(RECORD_HEADER_BYTES + 1 + SEGMENT_HEADER_BODY);
  const view = viewOf(buf);
  let p = RECORD_HEADER_BYTES;
  buf[p++] = RecordType.SegmentHeader;
  buf.set(MAGIC, p);
  p += 4;
  buf[p++] = VERSION;
  buf[p++] = h.reset ? FLAG_RESET : 0;
  setU64(view, p, h.seq);
  setU64(view, p + 8, h.prevIndex);
  setU64(view, p + 16, h.prevTerm);
  sealRecord(buf, view, 0, 1 + SEGMENT_HEADER_BODY);
  return buf;
}

/** Size of the framed record for one entry. */
export function entryRecordBytes(e: Entry): number {
  return RECORD_HEADER_BYTES + 1 + ENTRY_FIXED + e.data.length;
}

/** Writes one entry record at `offset`; returns the next offset. */
export function writeEntryRecord(buf: Uint8Array, view: DataView, offset: number, e: Entry): number {
  let p = offset + RECORD_HEADER_BYTES;
  buf[p++] = RecordType.Entry;
  setU64(view, p, e.term);
  setU64(view, p + 8, e.index);
  buf[p + 16] = e.type;
  buf.set(e.data, p + ENTRY_FIXED);
  return sealRecord(buf, view, offset, 1 + ENTRY_FIXED + e.data.length);
}

/** Encodes a hard state as one framed record. */
export function encodeHardState(hs: HardState): Uint8Array {
  const vote = utf8(hs.vote);
  const buf = new Uint8Array(RECORD_HEADER_BYTES + 1 + HARD_STATE_FIXED + vote.length);
  const view = viewOf(buf);
  const p = RECORD_HEADER_BYTES;
  buf[p] = RecordType.HardState;
  setU64(view, p + 1, hs.term);
  setU64(view, p + 9, hs.commit);
  buf.set(vote, p + 1 + HARD_STATE_FIXED);
  sealRecord(buf, view, 0, 1 + HARD_STATE_FIXED + vote.length);
  return buf;
}

/**
 * Encodes what one append call persists: its entries, then (if given) the hard state, as
 * consecutive records in a single buffer (one copy into the write batch, no per-entry I/O).
 * Entries go first so a hard state on disk never names a commit whose entries are missing.
 */
export function encodeAppend(entries: readonly Entry[], hardState: HardState | undefined): Uint8Array {
  const hs = hardState === undefined ? undefined : encodeHardState(hardState);
  let size = hs?.length ?? 0;
  for (const e of entries) size += entryRecordBytes(e);
  const buf = new Uint8Array(size);
  const view = viewOf(buf);
  let p = 0;
  for (const e of entries) p = writeEntryRecord(buf, view, p, e);
  if (hs !== undefined) buf.set(hs, p);
  return buf;
}

/** Decodes a segment header body in `buf[start, end)` (after the type byte). */
export function decodeSegmentHeader(buf: Uint8Array, view: DataView, start: number, end: number): SegmentHeader {
  if (end - start !== SEGMENT_HEADER_BODY) {
    throw new RangeError(`Segment header body of ${end - start} bytes: expected ${SEGMENT_HEADER_BODY}`);
  }
  for (let i = 0; i < 4; i++) {
    if (buf[start + i] !== MAGIC[i]) throw new RangeError('Segment header magic: expected "APWL"');
  }
  if (buf[start + 4] !== VERSION) throw new RangeError(`Segment version ${buf[start + 4]}: expected ${VERSION}`);
  const flags = buf[start + 5]!;
  if ((flags & ~FLAG_RESET) !== 0) throw new RangeError(`Segment header flags ${flags}: unknown bits set`);
  return {
    seq: getU64(view, start + 6),
    reset: (flags & FLAG_RESET) !== 0,
    prevIndex: getU64(view, start + 14),
    prevTerm: getU64(view, start + 22),
  };
}

/** Decodes an entry body; the data is copied so it does not pin the segment buffer. */
export function decodeEntry(buf: Uint8Array, view: DataView, start: number, end: number): Entry {
  if (end - start < ENTRY_FIXED) throw new RangeError(`Entry body of ${end - start} bytes: expected >= ${ENTRY_FIXED}`);
  const type = buf[start + 16]!;
  if (type !== EntryType.Normal && type !== EntryType.ConfChange) {
    throw new RangeError(`Entry type ${type}: expected 0 (normal) or 1 (conf change)`);
  }
  return {
    term: getU64(view, start),
    index: getU64(view, start + 8),
    type,
    data: buf.slice(start + ENTRY_FIXED, end),
  };
}

/** Decodes a hard state body. */
export function decodeHardState(buf: Uint8Array, view: DataView, start: number, end: number): HardState {
  if (end - start < HARD_STATE_FIXED) {
    throw new RangeError(`Hard state body of ${end - start} bytes: expected >= ${HARD_STATE_FIXED}`);
  }
  return {
    term: getU64(view, start),
    commit: getU64(view, start + 8),
    vote: fromUtf8(buf.subarray(start + HARD_STATE_FIXED, end)),
  };
}

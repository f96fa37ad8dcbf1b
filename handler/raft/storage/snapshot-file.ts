/**
 * Snapshot file format (pure codec), little-endian:
 *
 *   "APSN" | u8 version=1 | 3 zero bytes | u32 crc32c(every other byte of the file)
 *   | u64 index | u64 term | voters | learners | votersOutgoing | u64 dataLength | data
 *
 * where each id list is u16 count, then per id u16 length + UTF-8. The whole-file checksum
 * catches corruption anywhere; the atomic rename (shared/runtime/fs.ts writeFileAtomic)
 * guarantees a reader never sees a half-written file under its final name.
 */
import type { ConfState, NodeId, Snapshot } from '../types.ts';
import { getU64, setU64, utf8, fromUtf8 } from './binary.ts';
import { crc32c, crc32cUpdate } from './crc32c.ts';
import { viewOf } from './record.ts';

const MAGIC = [0x41, 0x50, 0x53, 0x4e] as const; // "APSN"
const VERSION = 1;
const HEADER_BYTES = 12;
const MAX_IDS = 0xffff;

function fileChecksum(buf: Uint8Array): number {
  return crc32cUpdate(crc32c(buf, 0, 8), buf, HEADER_BYTES);
}

/** Encodes a snapshot as the complete bytes of a snapshot file. */
export function encodeSnapshotFile(snapshot: Snapshot): Uint8Array {
  const { meta, data } = snapshot;
  const lists = [meta.conf.voters, meta.conf.learners, meta.conf.votersOutgoing].map((ids) => {
    if (ids.length > MAX_IDS) throw new RangeError(`Snapshot conf list of ${ids.length} ids: expected <= ${MAX_IDS}`);
    return ids.map((id) => {
      const b = utf8(id);
      if (b.length > 0xffff) throw new RangeError(`Node id of ${b.length} bytes: expected <= 65535`);
      return b;
    });
  });
  let size = HEADER_BYTES + 16 + 8 + data.length;
  for (const list of lists) size += 2 + list.reduce((n, b) => n + 2 + b.length, 0);
  const buf = new Uint8Array(size);
  const view = viewOf(buf);
  buf.set(MAGIC, 0);
  buf[4] = VERSION;
  let p = HEADER_BYTES;
  setU64(view, p, meta.index);
  setU64(view, p + 8, meta.term);
  p += 16;
  for (const list of lists) {
    view.setUint16(p, list.length, true);
    p += 2;
    for (const b of list) {
      view.setUint16(p, b.length, true);
      buf.set(b, p + 2);
      p += 2 + b.length;
    }
  }
  setU64(view, p, data.length);
  buf.set(data, p + 8);
  view.setUint32(8, fileChecksum(buf), true);
  return buf;
}

/** Outcome of decoding a snapshot file: the snapshot, or where and why it is bad. */
export type SnapshotDecodeResult = { ok: true; snapshot: Snapshot } | { ok: false; offset: number; reason: string };

/** Decodes and verifies snapshot file bytes; never throws on bad input. */
export function decodeSnapshotFile(buf: Uint8Array): SnapshotDecodeResult {
  const bad = (offset: number, reason: string): SnapshotDecodeResult => ({ ok: false, offset, reason });
  if (buf.length < HEADER_BYTES + 16 + 6 + 8) return bad(0, `file of ${buf.length} bytes is shorter than a snapshot`);
  for (let i = 0; i < 4; i++) if (buf[i] !== MAGIC[i]) return bad(0, 'magic is not "APSN"');
  if (buf[4] !== VERSION) return bad(4, `version ${buf[4]}, expected ${VERSION}`);
  const view = viewOf(buf);
  if (view.getUint32(8, true) !== fileChecksum(buf)) return bad(8, 'checksum mismatch');
  try {
    let p = HEADER_BYTES;
    const index = getU64(view, p);
    const term = getU64(view, p + 8);
    p += 16;
    const lists: NodeId[][] = [];
    for (let l = 0; l < 3; l++) {
      const count = view.getUint16(p, true);
      p += 2;
      const ids: NodeId[] = [];
      for (let i = 0; i < count; i++) {
        const len = view.getUint16(p, true);
        ids.push(fromUtf8(buf.subarray(p + 2, p + 2 + len)));
        p += 2 + len;
      }
      lists.push(ids);
    }
    const dataLength = getU64(view, p);
    p += 8;
    if (p + dataLength !== buf.length) return bad(p - 8, `data length ${dataLength} disagrees with the file size`);
    const conf: ConfState = { voters: lists[0]!, learners: lists[1]!, votersOutgoing: lists[2]! };
    return { ok: true, snapshot: { meta: { index, term, conf }, data: buf.slice(p) } };
  } catch (err) {
    // A checksummed file that still does not parse was written by something else.
    return bad(HEADER_BYTES, `malformed body: ${(err as Error).message}`);
  }
}

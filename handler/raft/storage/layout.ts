/**
 * File names in a storage directory. Everything lives in one flat directory so a single
 * directory fsync makes any create, rename or removal durable:
 *
 *   <seq:16 hex>-<firstIndex:16 hex>.wal   WAL segment; seq orders segments, firstIndex is
 *                                          the index its first entry was expected to have
 *                                          (etcd's "$seq-$index.wal" scheme)
 *   snap-<index:16 hex>-<term:16 hex>.snap snapshot file
 *   *.tmp                                  an interrupted atomic write: ignored and removed
 */
import { ATOMIC_TEMP_SUFFIX } from '../../../shared/runtime/fs.ts';

const HEX16 = /^[0-9a-f]{16}$/;

function hex16(n: number): string {
  return n.toString(16).padStart(16, '0');
}

function parseHex16(s: string): number | null {
  if (!HEX16.test(s)) return null;
  const n = parseInt(s, 16);
  return Number.isSafeInteger(n) ? n : null;
}

/** Name of WAL segment `seq` whose first entry is expected at `firstIndex`. */
export function segmentFileName(seq: number, firstIndex: number): string {
  return `${hex16(seq)}-${hex16(firstIndex)}.wal`;
}

/** Parses a segment file name, or null when `name` is not one. */
export function parseSegmentFileName(name: string): { seq: number; firstIndex: number } | null {
  if (name.length !== 37 || !name.endsWith('.wal') || name[16] !== '-') return null;
  const seq = parseHex16(name.slice(0, 16));
  const firstIndex = parseHex16(name.slice(17, 33));
  return seq === null || firstIndex === null ? null : { seq, firstIndex };
}

/** Name of the snapshot file for (index, term). */
export function snapshotFileName(index: number, term: number): string {
  return `snap-${hex16(index)}-${hex16(term)}.snap`;
}

/** Parses a snapshot file name, or null when `name` is not one. */
export function parseSnapshotFileName(name: string): { index: number; term: number } | null {
  if (name.length !== 43 || !name.startsWith('snap-') || !name.endsWith('.snap') || name[21] !== '-') return null;
  const index = parseHex16(name.slice(5, 21));
  const term = parseHex16(name.slice(22, 38));
  return index === null || term === null ? null : { index, term };
}

/** True for leftovers of an interrupted atomic write. */
export function isTempFileName(name: string): boolean {
  return name.endsWith(ATOMIC_TEMP_SUFFIX);
}

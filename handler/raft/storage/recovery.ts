/**
 * Recovery: turns a storage directory back into (hard state, snapshot, entries after it).
 *
 * Rules (docs/storage.md has the full argument):
 * - Replay starts at the last segment whose header has the reset flag (an installed snapshot
 *   replaced the log there), or at the first segment.
 * - Entries overwrite: an entry at index i drops every entry >= i first (Raft's truncation of
 *   a conflicting suffix), exactly like etcd's WAL ReadAll.
 * - Only the last record of the last segment may be damaged: it is a torn write from a crash
 *   before fdatasync returned, so nothing that depended on it was acknowledged; it is cut off
 *   with a warning. Damage anywhere else is STORAGE_CORRUPT naming the file and offset.
 * - The newest snapshot file must verify. If the log has no entry (S, T) matching it, the
 *   snapshot was installed but the reset segment never made it to disk: the log is dropped.
 */
import type { Entry, HardState, Snapshot } from '../types.ts';
import { emptyHardState } from '../types.ts';
import {
  joinPath,
  listDir,
  readFileBytes,
  readFileHead,
  removeFile,
  syncDir,
  openDurableFile,
} from '../../../shared/runtime/fs.ts';
import { isTempFileName, parseSegmentFileName, parseSnapshotFileName } from './layout.ts';
import { RECORD_HEADER_BYTES, RecordType, scanRecord, viewOf } from './record.ts';
import type { ScanResult } from './record.ts';
import { decodeEntry, decodeHardState, decodeSegmentHeader } from './records.ts';
import type { SegmentHeader } from './records.ts';
import { decodeSnapshotFile } from './snapshot-file.ts';
import { corruptError } from './storage-errors.ts';
import type { StorageLogger } from './storage-errors.ts';
import { TermIndex } from './term-index.ts';

/** A segment file as the writer tracks it. */
export interface SegmentInfo {
  seq: number;
  name: string;
  path: string;
  /** Bytes of valid records. */
  size: number;
  /** Highest entry index the segment holds (or its header's prevIndex when it holds none). */
  maxIndex: number;
  reset: boolean;
}

/** A snapshot file on disk. */
export interface SnapshotFileInfo {
  index: number;
  term: number;
  path: string;
}

/** Everything `recover` learned, for the caller and for the writer. */
export interface Recovered {
  hardState: HardState;
  snapshot: Snapshot | null;
  /** Entries after the snapshot, in index order. */
  entries: Entry[];
  /** Shape of the logical log (snapshot base plus entries). */
  log: TermIndex;
  /** Last entry written to the WAL (what the next segment header must name as prev). */
  walLast: { index: number; term: number };
  /** Every segment on disk in seq order, including ones before the replay start. */
  segments: SegmentInfo[];
  /** Snapshot files on disk, oldest first. */
  snapshots: SnapshotFileInfo[];
  /** A torn tail that was cut off, if any. */
  tornTail: { path: string; offset: number; droppedBytes: number } | null;
  /** The newest snapshot does not match the log: the writer must write a reset segment. */
  needsReset: boolean;
}

const SEGMENT_HEAD_BYTES = 64;

/** Offset just past the last non-zero byte (0 for an all-zero buffer). */
function nonZeroEnd(buf: Uint8Array): number {
  let i = buf.length;
  while (i > 0 && buf[i - 1] === 0) i--;
  return i;
}

/**
 * Whether a damaged record at the end of the last segment is a torn write. A crash during
 * an append leaves the tail of the file missing or zero-filled (ext4/xfs expose unwritten
 * extents as zeros), so the damage is torn only if nothing but zeros follows the part that
 * could have been half-written; anything else is corruption and must not be cut away.
 */
function isTorn(buf: Uint8Array, offset: number, r: ScanResult): boolean {
  switch (r.status) {
    case 'short-header':
    case 'short-payload':
      return true;
    case 'bad-header':
      return nonZeroEnd(buf) <= offset + RECORD_HEADER_BYTES;
    case 'bad-payload':
      return nonZeroEnd(buf) <= r.end;
    default:
      return false;
  }
}

async function readHeader(path: string): Promise<SegmentHeader | null> {
  const head = await readFileHead(path, SEGMENT_HEAD_BYTES);
  const view = viewOf(head);
  const r = scanRecord(head, view, 0);
  if (r.status !== 'ok' || r.type !== RecordType.SegmentHeader) return null;
  try {
    return decodeSegmentHeader(head, view, r.bodyStart, r.end);
  } catch {
    return null;
  }
}

/** Reads a storage directory, repairs a torn tail, and returns the recovered state. */
export async function recover(dir: string, logger?: StorageLogger): Promise<Recovered> {
  const names = await listDir(dir);
  let segments: SegmentInfo[] = [];
  const snapshots: SnapshotFileInfo[] = [];
  for (const name of names) {
    const path = joinPath(dir, name);
    if (isTempFileName(name)) {
      await removeFile(path);
      continue;
    }
    const seg = parseSegmentFileName(name);
    if (seg !== null) {
      segments.push({ seq: seg.seq, name, path, size: 0, maxIndex: 0, reset: false });
      continue;
    }
    const snap = parseSnapshotFileName(name);
    if (snap !== null) snapshots.push({ ...snap, path });
  }
  segments.sort((a, b) => a.seq - b.seq);
  snapshots.sort((a, b) => a.index - b.index || a.term - b.term);
  for (let i = 1; i < segments.length; i++) {
    if (segments[i]!.seq !== segments[i - 1]!.seq + 1) {
      throw corruptError(segments[i]!.path, 0, `segment ${segments[i - 1]!.seq + 1} before it is missing`);
    }
  }

  let snapshot: Snapshot | null = null;
  const newest = snapshots[snapshots.length - 1];
  if (newest !== undefined) {
    const decoded = decodeSnapshotFile(await readFileBytes(newest.path));
    if (!decoded.ok) throw corruptError(newest.path, decoded.offset, decoded.reason);
    if (decoded.snapshot.meta.index !== newest.index || decoded.snapshot.meta.term !== newest.term) {
      throw corruptError(newest.path, 12, 'index or term inside differs from the file name');
    }
    snapshot = decoded.snapshot;
  }
  const snapIndex = snapshot?.meta.index ?? 0;
  const snapTerm = snapshot?.meta.term ?? 0;

  let start = 0;
  for (let i = segments.length - 1; i > 0; i--) {
    const h = await readHeader(segments[i]!.path);
    if (h?.reset === true) {
      start = i;
      break;
    }
  }

  let hardState = emptyHardState();
  let stored: Entry[] = [];
  let termAtSnap: number | undefined = snapshot === null ? 0 : undefined;
  let lastIndex = 0;
  let lastTerm = 0;
  let tornTail: Recovered['tornTail'] = null;

  for (let s = start; s < segments.length; s++) {
    const seg = segments[s]!;
    const isLast = s === segments.length - 1;
    const buf = await readFileBytes(seg.path);
    const view = viewOf(buf);
    let offset = 0;
    let maxIndex = 0;
    for (;;) {
      const r = scanRecord(buf, view, offset);
      if (r.status === 'end') break;
      if (r.status !== 'ok') {
        if (!isLast || !isTorn(buf, offset, r)) throw corruptError(seg.path, offset, `record ${r.status}`);
        tornTail = { path: seg.path, offset, droppedBytes: buf.length - offset };
        break;
      }
      const at = offset;
      offset = r.end;
      try {
        if (at === 0) {
          if (r.type !== RecordType.SegmentHeader) throw new RangeError('first record is not a segment header');
          const h = decodeSegmentHeader(buf, view, r.bodyStart, r.end);
          if (h.seq !== seg.seq) throw new RangeError(`header names segment ${h.seq}`);
          seg.reset = h.reset;
          maxIndex = h.prevIndex;
          if (h.reset || s === start) {
            if (h.prevIndex > snapIndex) {
              throw new RangeError(
                h.reset
                  ? `log was reset to snapshot ${h.prevIndex} but the newest snapshot file is ${snapIndex}`
                  : `entries up to ${h.prevIndex} are in removed segments and no snapshot covers them`,
              );
            }
            stored = [];
            termAtSnap = h.prevIndex === snapIndex ? h.prevTerm : undefined;
          } else if (h.prevIndex !== lastIndex || h.prevTerm !== lastTerm) {
            throw new RangeError(`header continues from (${h.prevIndex}, ${h.prevTerm}), log ends at (${lastIndex}, ${lastTerm})`);
          }
          lastIndex = h.prevIndex;
          lastTerm = h.prevTerm;
          continue;
        }
        if (r.type === RecordType.Entry) {
          const e = decodeEntry(buf, view, r.bodyStart, r.end);
          if (e.index < 1 || e.index > lastIndex + 1) {
            throw new RangeError(`entry index ${e.index} leaves a gap after ${lastIndex}`);
          }
          if (e.index <= snapIndex) {
            stored = [];
            termAtSnap = e.index === snapIndex ? e.term : undefined;
          } else {
            stored.length = e.index - snapIndex - 1;
            stored.push(e);
          }
          lastIndex = e.index;
          lastTerm = e.term;
          if (e.index > maxIndex) maxIndex = e.index;
        } else if (r.type === RecordType.HardState) {
          hardState = decodeHardState(buf, view, r.bodyStart, r.end);
        } else {
          throw new RangeError(`unknown record type ${r.type}`);
        }
      } catch (err) {
        if ((err as { code?: unknown }).code !== undefined) throw err;
        throw corruptError(seg.path, at, (err as Error).message);
      }
    }
    if (offset === 0 && !isLast) throw corruptError(seg.path, 0, 'segment is empty');
    seg.size = offset;
    seg.maxIndex = maxIndex;
  }

  if (tornTail !== null) {
    logger?.warn(tornTail, 'Cut a torn record off the end of the Raft write-ahead log (crash during a write)');
  }
  const last = segments[segments.length - 1];
  if (last !== undefined && last.size === 0) {
    // Not even the segment header survived: the file was created and never synced.
    await removeFile(last.path);
    await syncDir(dir);
    segments = segments.slice(0, -1);
  } else if (tornTail !== null && last !== undefined) {
    const f = await openDurableFile(last.path, 'existing');
    try {
      await f.truncate(last.size);
      await f.datasync();
    } finally {
      await f.close();
    }
  }

  let needsReset = false;
  let entries = stored;
  if (snapshot !== null && termAtSnap !== snapTerm) {
    needsReset = true;
    entries = [];
    logger?.warn(
      { snapshotIndex: snapIndex, snapshotTerm: snapTerm, lastIndex },
      'Newest snapshot does not match the log (interrupted install): the log is replaced by the snapshot',
    );
  }
  const log = new TermIndex(snapIndex, snapTerm);
  for (const e of entries) log.append(e.index, e.term);
  return {
    hardState,
    snapshot,
    entries,
    log,
    walLast: { index: lastIndex, term: lastTerm },
    segments,
    snapshots,
    tornTail,
    needsReset,
  };
}

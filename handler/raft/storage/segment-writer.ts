/**
 * Owns the WAL segment files on disk: writes batches of encoded records at the end of the
 * current segment (one positional write + one fdatasync), rolls over to a new segment at the
 * size bound, creates reset segments, and removes leading segments. The caller serializes
 * calls (storage.ts runs them one at a time on its queue).
 */
import type { HardState } from '../types.ts';
import { joinPath, openDurableFile, removeFile, syncDir } from '../../../shared/runtime/fs.ts';
import type { DurableFile } from '../../../shared/runtime/fs.ts';
import { segmentFileName } from './layout.ts';
import { encodeHardState, encodeSegmentHeader } from './records.ts';
import type { SegmentInfo } from './recovery.ts';

/** One append call's records and what they change at the end of the WAL. */
export interface Chunk {
  bytes: Uint8Array;
  /** Last entry in the chunk (index, term), if it has entries. */
  last: { index: number; term: number } | undefined;
  hardState: HardState | undefined;
}

/** Counters the writer maintains (a subset of StorageStats, shared by reference). */
export interface WriterStats {
  writes: number;
  syncs: number;
  dirSyncs: number;
  bytesWritten: number;
  segmentsCreated: number;
  segmentsRemoved: number;
}

interface OpenSegment {
  info: SegmentInfo;
  file: DurableFile;
  /** Bytes of header records: a segment holding only these never rolls over. */
  headerEnd: number;
}

function concat(pieces: Uint8Array[], total: number): Uint8Array {
  if (pieces.length === 1) return pieces[0]!;
  const out = new Uint8Array(total);
  let p = 0;
  for (const piece of pieces) {
    out.set(piece, p);
    p += piece.length;
  }
  return out;
}

/** Appends to and manages the segment files of one storage directory. */
export class SegmentWriter {
  readonly #dir: string;
  readonly #segmentBytes: number;
  readonly #stats: WriterStats;
  #segments: SegmentInfo[];
  #current: OpenSegment | null = null;
  /** Last entry written to the WAL: the prevIndex/prevTerm of the next segment header. */
  #walLast: { index: number; term: number };
  /** Last hard state written: copied to the start of every new segment. */
  #walHardState: HardState;

  constructor(
    dir: string,
    segmentBytes: number,
    stats: WriterStats,
    segments: SegmentInfo[],
    walLast: { index: number; term: number },
    walHardState: HardState,
  ) {
    this.#dir = dir;
    this.#segmentBytes = segmentBytes;
    this.#stats = stats;
    this.#segments = segments;
    this.#walLast = walLast;
    this.#walHardState = walHardState;
  }

  /** Segments on disk, oldest first. */
  get segments(): readonly SegmentInfo[] {
    return this.#segments;
  }

  /** Opens the newest existing segment for appending, if there is one. */
  async openLast(): Promise<boolean> {
    const last = this.#segments[this.#segments.length - 1];
    if (last === undefined) return false;
    this.#current = { info: last, file: await openDurableFile(last.path, 'existing'), headerEnd: 0 };
    return true;
  }

  /**
   * Writes chunks in order, rolling over between chunks when the next one would push the
   * segment past the bound. The old segment is fdatasynced before the next one is created, so
   * only the last segment can ever hold a torn record; the directory is fsynced before return
   * when a segment was created.
   */
  async write(chunks: readonly Chunk[]): Promise<void> {
    let seg = this.#current!;
    let pieces: Uint8Array[] = [];
    let pending = 0;
    let created = false;
    for (const chunk of chunks) {
      const size = seg.info.size + pending;
      if (size + chunk.bytes.length > this.#segmentBytes && size > seg.headerEnd) {
        await this.#writeOut(seg, pieces, pending);
        const next = await this.#openNext(false, this.#walLast);
        seg = next.seg;
        created = true;
        pieces = [next.header];
        pending = next.header.length;
      }
      pieces.push(chunk.bytes);
      pending += chunk.bytes.length;
      if (chunk.last !== undefined) {
        this.#walLast = chunk.last;
        if (chunk.last.index > seg.info.maxIndex) seg.info.maxIndex = chunk.last.index;
      }
      if (chunk.hardState !== undefined) this.#walHardState = chunk.hardState;
    }
    await this.#writeOut(seg, pieces, pending);
    if (created) await this.#syncDir();
  }

  /**
   * Creates a segment and makes it durable on its own: the first segment of a fresh log
   * (reset=false, prev=(0,0)) or a reset segment that replaces the log by a snapshot.
   */
  async create(reset: boolean, prev: { index: number; term: number }): Promise<void> {
    const { seg, header } = await this.#openNext(reset, prev);
    await this.#writeOut(seg, [header], header.length);
    await this.#syncDir();
    this.#walLast = { ...prev };
  }

  /** Removes the `count` oldest segments (never the current one), oldest first. */
  async removeOldest(count: number): Promise<void> {
    const n = Math.min(count, this.#segments.length - 1);
    for (let i = 0; i < n; i++) await removeFile(this.#segments[i]!.path);
    this.#segments = this.#segments.slice(n);
    this.#stats.segmentsRemoved += n;
  }

  async close(): Promise<void> {
    await this.#current?.file.close();
    this.#current = null;
  }

  async #syncDir(): Promise<void> {
    await syncDir(this.#dir);
    this.#stats.dirSyncs++;
  }

  async #writeOut(seg: OpenSegment, pieces: Uint8Array[], total: number): Promise<void> {
    if (total === 0) return;
    await seg.file.write(concat(pieces, total), seg.info.size);
    seg.info.size += total;
    this.#stats.writes++;
    this.#stats.bytesWritten += total;
    await seg.file.datasync();
    this.#stats.syncs++;
  }

  /** Creates the next segment file; returns its header records for the caller to write first. */
  async #openNext(
    reset: boolean,
    prev: { index: number; term: number },
  ): Promise<{ seg: OpenSegment; header: Uint8Array }> {
    const old = this.#current;
    const lastSeg = this.#segments[this.#segments.length - 1];
    const seq = lastSeg === undefined ? 0 : lastSeg.seq + 1;
    const name = segmentFileName(seq, prev.index + 1);
    const path = joinPath(this.#dir, name);
    const file = await openDurableFile(path, 'create');
    const head = encodeSegmentHeader({ seq, reset, prevIndex: prev.index, prevTerm: prev.term });
    const hs = encodeHardState(this.#walHardState);
    const header = concat([head, hs], head.length + hs.length);
    const info: SegmentInfo = { seq, name, path, size: 0, maxIndex: prev.index, reset };
    const seg: OpenSegment = { info, file, headerEnd: header.length };
    this.#segments.push(info);
    this.#current = seg;
    this.#stats.segmentsCreated++;
    await old?.file.close();
    return { seg, header };
  }
}

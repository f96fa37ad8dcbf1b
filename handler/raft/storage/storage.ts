/**
 * The Raft storage driver: a segmented WAL with group commit, atomic snapshot files, and
 * compaction. The pure core hands it entries and hard state from a Ready; the promise of
 * `append` resolves only once they are on stable storage, which is when the core may send
 * messages that depend on them (Raft paper fig. 2, "respond after persisting").
 *
 * Group commit: every call encodes its records at once (so call order is log order) into the
 * open batch. One batch is flushed at a time as one positional write plus one fdatasync; calls
 * made while a flush is in flight join the next batch. So N proposals in flight cost about two
 * fsyncs, not N (the same idea as etcd's pipelined WAL Save and PostgreSQL's commit_delay).
 */
import type { Entry, HardState, Snapshot, SnapshotMeta } from '../types.ts';
import { EntryType } from '../types.ts';
import { codedError, ErrorCode } from '../../../shared/errors.ts';
import { ensureDir, joinPath, openDurableFile, removeFile, syncDir, writeFileAtomic } from '../../../shared/runtime/fs.ts';
import type { DurableFile } from '../../../shared/runtime/fs.ts';
import { segmentFileName, snapshotFileName } from './layout.ts';
import { encodeAppend, encodeHardState, encodeSegmentHeader } from './records.ts';
import { recover } from './recovery.ts';
import type { SegmentInfo, SnapshotFileInfo } from './recovery.ts';
import { encodeSnapshotFile } from './snapshot-file.ts';
import type { StorageLogger } from './storage-errors.ts';
import { TermIndex } from './term-index.ts';

/** Options of `openRaftStorage`. */
export interface RaftStorageOptions {
  /** Directory owned by this node's Raft storage (created 0700 if missing). */
  dir: string;
  /** A segment rolls over once it would exceed this many bytes (default 64 MiB). */
  segmentBytes?: number;
  /** Snapshot files kept by `compact` (default 2, at least 1). */
  keepSnapshots?: number;
  /** Receives warnings such as a torn tail cut off during recovery. */
  logger?: StorageLogger;
}

/** What the node restarts from. */
export interface RecoveredState {
  hardState: HardState;
  snapshot: Snapshot | null;
  /** Entries after the snapshot, contiguous, in index order. */
  entries: Entry[];
  /** A torn final record that recovery cut off, if any. */
  tornTail: { path: string; offset: number; droppedBytes: number } | null;
}

/** Counters for tests, metrics and benchmarks. */
export interface StorageStats {
  /** append / saveHardState calls. */
  appendCalls: number;
  /** Entry records written. */
  entries: number;
  /** Batches flushed (one write + one fdatasync each, plus rollover). */
  batches: number;
  /** Positional write calls on WAL segments. */
  writes: number;
  /** fdatasync calls on WAL segments. */
  syncs: number;
  /** Directory fsyncs (segment create/remove, snapshot rename). */
  dirSyncs: number;
  /** Bytes written to WAL segments. */
  bytesWritten: number;
  segmentsCreated: number;
  segmentsRemoved: number;
  snapshotsSaved: number;
  snapshotsRemoved: number;
}

interface Chunk {
  bytes: Uint8Array;
  last: Entry | undefined;
  maxIndex: number;
  hardState: HardState | undefined;
}

interface Batch {
  chunks: Chunk[];
  done: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
}

interface OpenSegment {
  info: SegmentInfo;
  file: DurableFile;
  /** Bytes of header records: a segment holding only these never rolls over. */
  headerEnd: number;
}

const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

function badIndex(message: string): Error {
  return codedError(RangeError, ErrorCode.STORAGE_BAD_INDEX, message);
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

/** Opens (creating or recovering) the storage in `options.dir`. */
export async function openRaftStorage(
  options: RaftStorageOptions,
): Promise<{ storage: RaftStorage; recovered: RecoveredState }> {
  const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  const keepSnapshots = options.keepSnapshots ?? 2;
  if (!Number.isSafeInteger(segmentBytes) || segmentBytes < 4096) {
    throw codedError(RangeError, ErrorCode.BAD_CONFIG, `segmentBytes ${segmentBytes}: expected an integer >= 4096`);
  }
  if (!Number.isSafeInteger(keepSnapshots) || keepSnapshots < 1) {
    throw codedError(RangeError, ErrorCode.BAD_CONFIG, `keepSnapshots ${keepSnapshots}: expected an integer >= 1`);
  }
  await ensureDir(options.dir);
  const rec = await recover(options.dir, options.logger);
  const storage = new RaftStorage(options.dir, segmentBytes, keepSnapshots, rec.log, rec.hardState, rec.walLast);
  await storage.start(rec.segments, rec.snapshots, rec.needsReset ? rec.snapshot!.meta : null);
  return {
    storage,
    recovered: { hardState: rec.hardState, snapshot: rec.snapshot, entries: rec.entries, tornTail: rec.tornTail },
  };
}

/** Durable Raft log, hard state and snapshots. Create with `openRaftStorage`. */
export class RaftStorage {
  readonly dir: string;
  readonly #segmentBytes: number;
  readonly #keepSnapshots: number;
  /** Logical log as of the last call (ahead of the disk while batches are pending). */
  readonly #log: TermIndex;
  #commit: number;
  /** Log position and hard state as of the end of what was written to the WAL. */
  #walLast: { index: number; term: number };
  #walHardState: HardState;
  #segments: SegmentInfo[] = [];
  #snapshots: SnapshotFileInfo[] = [];
  #current: OpenSegment | null = null;
  #batch: Batch | null = null;
  #queue: Promise<void> = Promise.resolve();
  #failed: Error | null = null;
  #closed = false;
  readonly #stats: StorageStats = {
    appendCalls: 0,
    entries: 0,
    batches: 0,
    writes: 0,
    syncs: 0,
    dirSyncs: 0,
    bytesWritten: 0,
    segmentsCreated: 0,
    segmentsRemoved: 0,
    snapshotsSaved: 0,
    snapshotsRemoved: 0,
  };

  /** @internal Use openRaftStorage. */
  constructor(
    dir: string,
    segmentBytes: number,
    keepSnapshots: number,
    log: TermIndex,
    hardState: HardState,
    walLast: { index: number; term: number },
  ) {
    this.dir = dir;
    this.#segmentBytes = segmentBytes;
    this.#keepSnapshots = keepSnapshots;
    this.#log = log;
    this.#commit = hardState.commit;
    this.#walHardState = hardState;
    this.#walLast = walLast;
  }

  /** @internal Opens the last segment for appending, or creates the first / a reset one. */
  async start(segments: SegmentInfo[], snapshots: SnapshotFileInfo[], resetTo: SnapshotMeta | null): Promise<void> {
    this.#segments = segments;
    this.#snapshots = snapshots;
    const last = segments[segments.length - 1];
    if (last !== undefined) {
      this.#current = { info: last, file: await openDurableFile(last.path, 'existing'), headerEnd: 0 };
    }
    if (resetTo !== null) await this.#createSegment(true, { index: resetTo.index, term: resetTo.term });
    else if (last === undefined) await this.#createSegment(false, this.#walLast);
  }

  /** Index of the first entry after the snapshot. */
  get firstIndex(): number {
    return this.#log.baseIndex + 1;
  }

  /** Index of the last entry appended (including entries still being flushed). */
  get lastIndex(): number {
    return this.#log.lastIndex;
  }

  /** Term of entry `index` (the snapshot's term at its index), or undefined outside the log. */
  term(index: number): number | undefined {
    return this.#log.termAt(index);
  }

  /** A copy of the counters. */
  stats(): StorageStats {
    return { ...this.#stats };
  }

  /**
   * Appends entries and optionally a hard state; resolves once both are durable. The first
   * entry may overwrite an uncommitted suffix (index <= lastIndex): replay drops the old
   * entries from that index on. Throws STORAGE_BAD_INDEX for a gap, non-consecutive indexes,
   * decreasing terms, or an overwrite at or below the persisted commit or snapshot index.
   */
  append(entries: readonly Entry[], hardState?: HardState): Promise<void> {
    const unusable = this.#unusable();
    if (unusable !== null) return Promise.reject(unusable);
    if (entries.length === 0 && hardState === undefined) return this.sync();
    const first = entries[0];
    if (first !== undefined) {
      const log = this.#log;
      if (first.index > log.lastIndex + 1) {
        return Promise.reject(badIndex(`Entry index ${first.index} leaves a gap: expected <= ${log.lastIndex + 1}`));
      }
      const floor = Math.max(log.baseIndex, first.index <= log.lastIndex ? this.#commit : 0);
      if (first.index <= floor) {
        return Promise.reject(
          badIndex(`Entry index ${first.index} would overwrite committed or snapshotted entries: expected > ${floor}`),
        );
      }
      let prevTerm = log.termAt(first.index - 1)!;
      for (let k = 0; k < entries.length; k++) {
        const e = entries[k]!;
        if (e.index !== first.index + k) {
          return Promise.reject(badIndex(`Entry ${k} has index ${e.index}: expected ${first.index + k}`));
        }
        if (!Number.isSafeInteger(e.term) || e.term < prevTerm) {
          return Promise.reject(badIndex(`Entry ${e.index} has term ${e.term}: expected >= ${prevTerm}`));
        }
        if ((e.type !== EntryType.Normal && e.type !== EntryType.ConfChange) || !(e.data instanceof Uint8Array)) {
          return Promise.reject(
            codedError(TypeError, ErrorCode.STORAGE_BAD_INDEX, `Entry ${e.index}: expected a known type and Uint8Array data`),
          );
        }
        prevTerm = e.term;
      }
    }
    let bytes: Uint8Array;
    try {
      bytes = encodeAppend(entries, hardState);
    } catch (err) {
      return Promise.reject(err);
    }
    for (const e of entries) this.#log.append(e.index, e.term);
    if (hardState !== undefined) this.#commit = hardState.commit;
    const last = entries[entries.length - 1];
    this.#openBatch().chunks.push({ bytes, last, maxIndex: last?.index ?? 0, hardState });
    this.#stats.appendCalls++;
    this.#stats.entries += entries.length;
    return this.#batch!.done;
  }

  /** Persists a hard state (term, vote, commit); group-committed with appends. */
  saveHardState(hardState: HardState): Promise<void> {
    return this.append([], hardState);
  }

  /** Resolves once everything appended before this call is durable. */
  sync(): Promise<void> {
    const unusable = this.#unusable();
    if (unusable !== null) return Promise.reject(unusable);
    return this.#queue.then(() => {
      if (this.#failed !== null) throw this.#failed;
    });
  }

  /**
   * Saves a snapshot atomically (temp file, fsync, rename, fsync dir). If the log holds the
   * snapshot's last entry (same index and term) the entries after it are kept; otherwise the
   * log is replaced by the snapshot (Raft fig. 13 steps 6-7) by starting a reset segment.
   * Appends made after this call are written after it. Old segments go in `compact`.
   */
  saveSnapshot(snapshot: Snapshot): Promise<void> {
    const unusable = this.#unusable();
    if (unusable !== null) return Promise.reject(unusable);
    const { index, term } = snapshot.meta;
    if (index <= this.#log.baseIndex) {
      return Promise.reject(badIndex(`Snapshot index ${index}: expected > current snapshot ${this.#log.baseIndex}`));
    }
    let bytes: Uint8Array;
    try {
      bytes = encodeSnapshotFile(snapshot);
    } catch (err) {
      return Promise.reject(err);
    }
    const matches = this.#log.termAt(index) === term;
    if (matches) this.#log.compactTo(index);
    else this.#log.reset(index, term);
    this.#batch = null;
    return this.#enqueue(async () => {
      const path = joinPath(this.dir, snapshotFileName(index, term));
      await writeFileAtomic(path, bytes);
      this.#stats.dirSyncs++;
      this.#stats.snapshotsSaved++;
      this.#snapshots.push({ index, term, path });
      if (!matches) await this.#createSegment(true, { index, term });
    });
  }

  /**
   * Removes what the newest snapshot makes unnecessary: segments before the last reset, then
   * leading segments whose every entry is at or below the snapshot index (never the segment
   * being written), and snapshot files beyond `keepSnapshots`. Oldest first, so a crash midway
   * leaves a contiguous run of segments.
   */
  compact(): Promise<void> {
    const unusable = this.#unusable();
    if (unusable !== null) return Promise.reject(unusable);
    return this.#enqueue(async () => {
      const newest = this.#snapshots[this.#snapshots.length - 1];
      const snapIndex = newest?.index ?? 0;
      let lastReset = -1;
      for (let i = 0; i < this.#segments.length; i++) if (this.#segments[i]!.reset) lastReset = i;
      let drop = Math.max(lastReset, 0);
      while (drop < this.#segments.length - 1 && this.#segments[drop]!.maxIndex <= snapIndex) drop++;
      const segs = this.#segments.slice(0, drop);
      const snaps = this.#snapshots.slice(0, Math.max(0, this.#snapshots.length - this.#keepSnapshots));
      for (const s of segs) await removeFile(s.path);
      for (const s of snaps) await removeFile(s.path);
      if (segs.length + snaps.length > 0) {
        await syncDir(this.dir);
        this.#stats.dirSyncs++;
      }
      this.#segments = this.#segments.slice(drop);
      this.#snapshots = this.#snapshots.slice(snaps.length);
      this.#stats.segmentsRemoved += segs.length;
      this.#stats.snapshotsRemoved += snaps.length;
    });
  }

  /** Flushes pending work and closes the segment file. Later calls reject with CLOSED. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue;
    await this.#current?.file.close();
    this.#current = null;
  }

  #unusable(): Error | null {
    if (this.#closed) return codedError(Error, ErrorCode.CLOSED, 'Raft storage is closed: expected an open storage');
    return this.#failed;
  }

  #enqueue(op: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(async () => {
      if (this.#failed !== null) throw this.#failed;
      try {
        await op();
      } catch (err) {
        throw this.#fail(err);
      }
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  #fail(cause: unknown): Error {
    // After a failed write or fsync the page cache state is unknown (the "fsyncgate" lesson:
    // retrying fsync can report success for lost data), so the storage stops for good.
    this.#failed ??= codedError(
      Error,
      ErrorCode.STORAGE_FAILED,
      `Raft storage write failed (${(cause as Error).message ?? String(cause)}); restart the node to recover from disk`,
      cause,
    );
    return this.#failed;
  }

  #openBatch(): Batch {
    if (this.#batch !== null) return this.#batch;
    let resolve!: () => void;
    let reject!: (err: Error) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    done.catch(() => {});
    const batch: Batch = { chunks: [], done, resolve, reject };
    this.#batch = batch;
    this.#enqueue(() => this.#flush(batch)).then(batch.resolve, batch.reject);
    return batch;
  }

  async #flush(batch: Batch): Promise<void> {
    if (this.#batch === batch) this.#batch = null;
    let seg = this.#current!;
    let pieces: Uint8Array[] = [];
    let pending = 0;
    let created = false;
    for (const chunk of batch.chunks) {
      if (seg.info.size + pending + chunk.bytes.length > this.#segmentBytes && seg.info.size + pending > seg.headerEnd) {
        await this.#writeOut(seg, pieces, pending);
        const header = await this.#rollover();
        seg = this.#current!;
        created = true;
        pieces = [header];
        pending = header.length;
      }
      pieces.push(chunk.bytes);
      pending += chunk.bytes.length;
      if (chunk.last !== undefined) this.#walLast = { index: chunk.last.index, term: chunk.last.term };
      if (chunk.maxIndex > seg.info.maxIndex) seg.info.maxIndex = chunk.maxIndex;
      if (chunk.hardState !== undefined) this.#walHardState = chunk.hardState;
    }
    await this.#writeOut(seg, pieces, pending);
    if (created) {
      await syncDir(this.dir);
      this.#stats.dirSyncs++;
    }
    this.#stats.batches++;
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

  /** Opens the next segment; returns its header records for the caller to write first. */
  async #rollover(): Promise<Uint8Array> {
    const { header } = await this.#openNextSegment(false, this.#walLast);
    return header;
  }

  async #openNextSegment(
    reset: boolean,
    prev: { index: number; term: number },
  ): Promise<{ seg: OpenSegment; header: Uint8Array }> {
    const old = this.#current;
    const seq = old === null ? 0 : old.info.seq + 1;
    const name = segmentFileName(seq, prev.index + 1);
    const path = joinPath(this.dir, name);
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

  /** Creates a segment and makes it durable on its own (first segment, or a reset). */
  async #createSegment(reset: boolean, prev: { index: number; term: number }): Promise<void> {
    const { seg, header } = await this.#openNextSegment(reset, prev);
    await this.#writeOut(seg, [header], header.length);
    await syncDir(this.dir);
    this.#stats.dirSyncs++;
    this.#walLast = { ...prev };
  }
}

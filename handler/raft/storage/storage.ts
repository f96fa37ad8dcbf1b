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
import type { Entry, HardState, Snapshot } from '../types.ts';
import { codedError, ErrorCode } from '../../../shared/errors.ts';
import { ensureDir, joinPath, removeFile, syncDir, writeFileAtomic } from '../../../shared/runtime/fs.ts';
import { checkAppend } from './append-check.ts';
import { snapshotFileName } from './layout.ts';
import { encodeAppend } from './records.ts';
import { recover } from './recovery.ts';
import type { SnapshotFileInfo } from './recovery.ts';
import { SegmentWriter } from './segment-writer.ts';
import type { Chunk } from './segment-writer.ts';
import { encodeSnapshotFile } from './snapshot-file.ts';
import type { StorageLogger } from './storage-errors.ts';
import type { TermIndex } from './term-index.ts';

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

interface Batch {
  chunks: Chunk[];
  done: Promise<void>;
}

const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

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
  const stats: StorageStats = {
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
  const writer = new SegmentWriter(options.dir, segmentBytes, stats, rec.segments, rec.walLast, rec.hardState);
  try {
    const hasSegment = await writer.openLast();
    if (rec.needsReset) await writer.create(true, { index: rec.snapshot!.meta.index, term: rec.snapshot!.meta.term });
    else if (!hasSegment) await writer.create(false, rec.walLast);
  } catch (err) {
    await writer.close();
    throw err;
  }
  const storage = new RaftStorage(options.dir, keepSnapshots, stats, writer, rec.log, rec.hardState.commit, rec.snapshots);
  return {
    storage,
    recovered: { hardState: rec.hardState, snapshot: rec.snapshot, entries: rec.entries, tornTail: rec.tornTail },
  };
}

/** Durable Raft log, hard state and snapshots. Create with `openRaftStorage`. */
export class RaftStorage {
  readonly dir: string;
  readonly #keepSnapshots: number;
  readonly #stats: StorageStats;
  readonly #writer: SegmentWriter;
  /** Logical log as of the last call (ahead of the disk while batches are pending). */
  readonly #log: TermIndex;
  /** Commit index of the last hard state handed to append (the truncation floor). */
  #commit: number;
  #snapshots: SnapshotFileInfo[];
  #batch: Batch | null = null;
  #queue: Promise<void> = Promise.resolve();
  #failed: Error | null = null;
  #closed = false;

  /** @internal Use openRaftStorage. */
  constructor(
    dir: string,
    keepSnapshots: number,
    stats: StorageStats,
    writer: SegmentWriter,
    log: TermIndex,
    commit: number,
    snapshots: SnapshotFileInfo[],
  ) {
    this.dir = dir;
    this.#keepSnapshots = keepSnapshots;
    this.#stats = stats;
    this.#writer = writer;
    this.#log = log;
    this.#commit = commit;
    this.#snapshots = snapshots;
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
   * entries from that index on. Rejects with STORAGE_BAD_INDEX for a gap, non-consecutive
   * indexes, decreasing terms, or an overwrite at or below the persisted commit or snapshot.
   */
  append(entries: readonly Entry[], hardState?: HardState): Promise<void> {
    const refused = this.#unusable() ?? checkAppend(this.#log, this.#commit, entries);
    if (refused !== null) return Promise.reject(refused);
    if (entries.length === 0 && hardState === undefined) return this.sync();
    let bytes: Uint8Array;
    try {
      bytes = encodeAppend(entries, hardState);
    } catch (err) {
      return Promise.reject(err);
    }
    for (const e of entries) this.#log.append(e.index, e.term);
    if (hardState !== undefined) this.#commit = hardState.commit;
    const last = entries[entries.length - 1];
    const batch = this.#openBatch();
    batch.chunks.push({ bytes, last: last && { index: last.index, term: last.term }, hardState });
    this.#stats.appendCalls++;
    this.#stats.entries += entries.length;
    return batch.done;
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
      return Promise.reject(
        codedError(RangeError, ErrorCode.STORAGE_BAD_INDEX, `Snapshot index ${index}: expected > ${this.#log.baseIndex}`),
      );
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
      if (!matches) await this.#writer.create(true, { index, term });
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
      const snapIndex = this.#snapshots[this.#snapshots.length - 1]?.index ?? 0;
      const segments = this.#writer.segments;
      let drop = Math.max(0, segments.findLastIndex((s) => s.reset));
      while (drop < segments.length - 1 && segments[drop]!.maxIndex <= snapIndex) drop++;
      const snaps = this.#snapshots.slice(0, Math.max(0, this.#snapshots.length - this.#keepSnapshots));
      await this.#writer.removeOldest(drop);
      for (const s of snaps) await removeFile(s.path);
      if (drop + snaps.length > 0) {
        await syncDir(this.dir);
        this.#stats.dirSyncs++;
      }
      this.#snapshots = this.#snapshots.slice(snaps.length);
      this.#stats.snapshotsRemoved += snaps.length;
    });
  }

  /** Flushes pending work and closes the segment file. Later calls reject with CLOSED. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue;
    await this.#writer.close();
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

  /** The batch new appends join; its flush is queued when it is opened. */
  #openBatch(): Batch {
    if (this.#batch !== null) return this.#batch;
    const chunks: Chunk[] = [];
    const batch: Batch = {
      chunks,
      done: this.#enqueue(async () => {
        // From here on, appends go to the next batch: this is what makes commits group.
        if (this.#batch === batch) this.#batch = null;
        await this.#writer.write(chunks);
        this.#stats.batches++;
      }),
    };
    batch.done.catch(() => {});
    this.#batch = batch;
    return batch;
  }
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openRaftStorage } from '../../../../handler/raft/storage/index.ts';
import type { StorageCorruptError } from '../../../../handler/raft/storage/index.ts';
import { snapshotFileName } from '../../../../handler/raft/storage/layout.ts';
import { encodeSnapshotFile } from '../../../../handler/raft/storage/snapshot-file.ts';
import type { Snapshot } from '../../../../handler/raft/types.ts';
import { ErrorCode, hasCode } from '../../../../shared/errors.ts';
import { describe, makeEntries, tempDir } from './helpers.ts';

const conf = { voters: ['h1', 'h2', 'h3'], learners: [], votersOutgoing: [] };

function snap(index: number, term: number, text = `state@${index}`): Snapshot {
  return { meta: { index, term, conf }, data: new TextEncoder().encode(text) };
}

async function names(dir: string, suffix: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith(suffix)).sort();
}

test('a snapshot that matches the log keeps the entries after it across a restart', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const a = await openRaftStorage({ dir });
    await a.storage.append(makeEntries(1, 20, 3), { term: 3, vote: 'h1', commit: 15 });
    await a.storage.saveSnapshot(snap(12, 3));
    assert.equal(a.storage.firstIndex, 13);
    assert.equal(a.storage.lastIndex, 20);
    await a.storage.close();
    const b = await openRaftStorage({ dir });
    assert.deepEqual(b.recovered.snapshot, snap(12, 3));
    assert.deepEqual(describe(b.recovered.entries), describe(makeEntries(13, 20, 3)));
    assert.equal(b.storage.term(12), 3);
    await b.storage.close();
  } finally {
    await cleanup();
  }
});

test('an installed snapshot that conflicts with the log replaces it, and the old suffix never returns', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const a = await openRaftStorage({ dir });
    await a.storage.append(makeEntries(1, 20, 1), { term: 1, vote: '', commit: 5 });
    await a.storage.saveSnapshot(snap(15, 2));
    assert.equal(a.storage.lastIndex, 15);
    await a.storage.close();
    const b = await openRaftStorage({ dir });
    assert.equal(b.recovered.snapshot?.meta.index, 15);
    assert.deepEqual(b.recovered.entries, []);
    await b.storage.append(makeEntries(16, 17, 2), { term: 2, vote: '', commit: 16 });
    await b.storage.close();
    const c = await openRaftStorage({ dir });
    assert.deepEqual(describe(c.recovered.entries), describe(makeEntries(16, 17, 2)));
    assert.deepEqual(c.recovered.hardState, { term: 2, vote: '', commit: 16 });
    await c.storage.compact();
    assert.equal((await names(dir, '.wal')).length, 1, 'segments before the reset are removed');
    await c.storage.close();
    const d = await openRaftStorage({ dir });
    assert.deepEqual(describe(d.recovered.entries), describe(makeEntries(16, 17, 2)));
    await d.storage.close();
  } finally {
    await cleanup();
  }
});

test('a snapshot beyond the end of the log starts the log after it', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const a = await openRaftStorage({ dir });
    await a.storage.append(makeEntries(1, 3, 1));
    const appended = a.storage.saveSnapshot(snap(100, 4));
    const after = a.storage.append(makeEntries(101, 102, 4));
    await Promise.all([appended, after]);
    await a.storage.close();
    const b = await openRaftStorage({ dir });
    assert.equal(b.recovered.snapshot?.meta.index, 100);
    assert.deepEqual(describe(b.recovered.entries), describe(makeEntries(101, 102, 4)));
    await b.storage.close();
  } finally {
    await cleanup();
  }
});

test('a snapshot file whose install did not finish before a crash still wins over the old log', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const a = await openRaftStorage({ dir });
    await a.storage.append(makeEntries(1, 10, 1));
    await a.storage.close();
    // The crash came after the rename of the snapshot file, before the reset segment.
    await writeFile(join(dir, snapshotFileName(8, 2)), encodeSnapshotFile(snap(8, 2)));
    const warnings: unknown[] = [];
    const b = await openRaftStorage({ dir, logger: { warn: (f) => void warnings.push(f) } });
    assert.equal(b.recovered.snapshot?.meta.index, 8);
    assert.deepEqual(b.recovered.entries, []);
    assert.equal(warnings.length, 1);
    assert.equal(b.storage.lastIndex, 8);
    await b.storage.append(makeEntries(9, 9, 2));
    await b.storage.close();
    const c = await openRaftStorage({ dir });
    assert.deepEqual(describe(c.recovered.entries), describe(makeEntries(9, 9, 2)));
    await c.storage.close();
  } finally {
    await cleanup();
  }
});

test('a leftover temp file from an interrupted snapshot write is ignored and removed', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const a = await openRaftStorage({ dir });
    await a.storage.append(makeEntries(1, 10, 1), { term: 1, vote: '', commit: 10 });
    await a.storage.saveSnapshot(snap(5, 1));
    await a.storage.close();
    const half = encodeSnapshotFile(snap(9, 1)).subarray(0, 20);
    const tmp = join(dir, snapshotFileName(9, 1) + '.tmp');
    await writeFile(tmp, half);
    const b = await openRaftStorage({ dir });
    assert.equal(b.recovered.snapshot?.meta.index, 5);
    assert.deepEqual(describe(b.recovered.entries), describe(makeEntries(6, 10, 1)));
    assert.deepEqual(await names(dir, '.tmp'), []);
    await b.storage.close();
  } finally {
    await cleanup();
  }
});

test('a damaged newest snapshot refuses to start, naming the file', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const a = await openRaftStorage({ dir });
    await a.storage.append(makeEntries(1, 10, 1), { term: 1, vote: '', commit: 10 });
    await a.storage.saveSnapshot(snap(9, 1));
    await a.storage.close();
    const path = join(dir, snapshotFileName(9, 1));
    const bytes = new Uint8Array(await readFile(path));
    bytes[bytes.length - 2]! ^= 0x20;
    await writeFile(path, bytes);
    await assert.rejects(openRaftStorage({ dir }), (err: unknown) => {
      assert.ok(hasCode(err, ErrorCode.STORAGE_CORRUPT));
      assert.equal((err as StorageCorruptError).path, path);
      assert.equal((err as StorageCorruptError).offset, 8);
      return true;
    });
  } finally {
    await cleanup();
  }
});

test('compaction keeps the newest snapshots only, and stale snapshots are refused', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { storage } = await openRaftStorage({ dir, keepSnapshots: 2 });
    await storage.append(makeEntries(1, 30, 1), { term: 1, vote: '', commit: 30 });
    for (const index of [10, 20, 30]) await storage.saveSnapshot(snap(index, 1));
    await assert.rejects(storage.saveSnapshot(snap(25, 1)), (err) => hasCode(err, ErrorCode.STORAGE_BAD_INDEX));
    await storage.compact();
    assert.deepEqual(await names(dir, '.snap'), [snapshotFileName(20, 1), snapshotFileName(30, 1)]);
    assert.equal(storage.stats().snapshotsSaved, 3);
    assert.equal(storage.stats().snapshotsRemoved, 1);
    await storage.close();
  } finally {
    await cleanup();
  }
});

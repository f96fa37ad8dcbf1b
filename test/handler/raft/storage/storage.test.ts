import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, rm } from 'node:fs/promises';
import { openRaftStorage } from '../../../../handler/raft/storage/index.ts';
import { ErrorCode, hasCode } from '../../../../shared/errors.ts';
import { describe, makeEntries, tempDir } from './helpers.ts';

test('a fresh directory recovers an empty log, and appended entries and hard state survive a restart', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const first = await openRaftStorage({ dir });
    assert.deepEqual(first.recovered, {
      hardState: { term: 0, vote: '', commit: 0 },
      snapshot: null,
      entries: [],
      tornTail: null,
    });
    const entries = [...makeEntries(1, 40, 1), ...makeEntries(41, 50, 2, 0)];
    await first.storage.append(entries.slice(0, 25), { term: 1, vote: 'h1', commit: 3 });
    await first.storage.append(entries.slice(25), { term: 2, vote: 'h2', commit: 30 });
    assert.equal(first.storage.lastIndex, 50);
    await first.storage.close();

    const second = await openRaftStorage({ dir });
    assert.deepEqual(second.recovered.hardState, { term: 2, vote: 'h2', commit: 30 });
    assert.equal(second.recovered.snapshot, null);
    assert.deepEqual(second.recovered.entries, entries);
    assert.equal(second.storage.firstIndex, 1);
    assert.equal(second.storage.lastIndex, 50);
    assert.equal(second.storage.term(45), 2);
    await second.storage.close();
  } finally {
    await cleanup();
  }
});

test('a thousand concurrent appends are group-committed into a couple of fsyncs', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { storage } = await openRaftStorage({ dir });
    const before = storage.stats();
    const entries = makeEntries(1, 1000, 1, 256);
    let resolved = 0;
    const done = entries.map((e) => storage.append([e]).then(() => resolved++));
    assert.equal(resolved, 0, 'nothing resolves before its fsync');
    await Promise.all(done);
    const after = storage.stats();
    assert.equal(after.appendCalls - before.appendCalls, 1000);
    assert.equal(after.entries - before.entries, 1000);
    assert.ok(after.syncs - before.syncs <= 2, `syncs: ${after.syncs - before.syncs}`);
    assert.ok(after.writes - before.writes <= 2, `writes: ${after.writes - before.writes}`);
    await storage.close();
    const again = await openRaftStorage({ dir });
    assert.deepEqual(describe(again.recovered.entries), describe(entries));
    await again.storage.close();
  } finally {
    await cleanup();
  }
});

test('appends arriving while an fsync is in flight join the next batch', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { storage } = await openRaftStorage({ dir });
    const before = storage.stats().syncs;
    const pending: Promise<void>[] = [];
    const groups = 20;
    for (let g = 0; g < groups; g++) {
      for (let k = 0; k < 50; k++) {
        const index = g * 50 + k + 1;
        pending.push(storage.append(makeEntries(index, index, 1, 64)));
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(pending);
    const syncs = storage.stats().syncs - before;
    assert.ok(syncs <= groups, `1000 appends in ${groups} waves took ${syncs} fsyncs`);
    await storage.close();
  } finally {
    await cleanup();
  }
});

test('an append resolves only after the fsync that covers it', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { storage } = await openRaftStorage({ dir });
    const before = storage.stats().syncs;
    await storage.append(makeEntries(1, 1, 1));
    assert.equal(storage.stats().syncs, before + 1);
    await storage.saveHardState({ term: 1, vote: 'h1', commit: 1 });
    assert.equal(storage.stats().syncs, before + 2);
    await storage.sync();
    assert.equal(storage.stats().syncs, before + 2, 'sync with nothing pending costs nothing');
    await storage.close();
  } finally {
    await cleanup();
  }
});

test('overwriting an uncommitted suffix is what a restart recovers', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const a = await openRaftStorage({ dir });
    await a.storage.append(makeEntries(1, 10, 1), { term: 1, vote: '', commit: 3 });
    await a.storage.append(makeEntries(6, 8, 2));
    assert.equal(a.storage.lastIndex, 8);
    await a.storage.append(makeEntries(8, 9, 3));
    await a.storage.close();
    const b = await openRaftStorage({ dir });
    const expected = [...makeEntries(1, 5, 1), ...makeEntries(6, 7, 2), ...makeEntries(8, 9, 3)];
    assert.deepEqual(describe(b.recovered.entries), describe(expected));
    assert.equal(b.storage.lastIndex, 9);
    await b.storage.close();
  } finally {
    await cleanup();
  }
});

test('appends that break the log shape are refused with STORAGE_BAD_INDEX', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { storage } = await openRaftStorage({ dir });
    await storage.append(makeEntries(1, 10, 2), { term: 2, vote: '', commit: 6 });
    const isBad = (err: unknown) => hasCode(err, ErrorCode.STORAGE_BAD_INDEX);
    await assert.rejects(storage.append(makeEntries(12, 12, 2)), isBad, 'gap');
    await assert.rejects(storage.append(makeEntries(5, 5, 3)), isBad, 'overwrite at or below commit');
    await assert.rejects(storage.append(makeEntries(11, 11, 1)), isBad, 'term going down');
    await assert.rejects(storage.append([...makeEntries(11, 11, 2), ...makeEntries(13, 13, 2)]), isBad, 'hole');
    assert.equal(storage.lastIndex, 10, 'a refused append changes nothing');
    await storage.append(makeEntries(7, 7, 3));
    assert.equal(storage.lastIndex, 7);
    await storage.close();
  } finally {
    await cleanup();
  }
});

test('calls after close reject with CLOSED', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { storage } = await openRaftStorage({ dir });
    await storage.close();
    await assert.rejects(storage.append(makeEntries(1, 1, 1)), (err) => hasCode(err, ErrorCode.CLOSED));
    await assert.rejects(storage.sync(), (err) => hasCode(err, ErrorCode.CLOSED));
  } finally {
    await cleanup();
  }
});

test('segments roll over at the size bound, and compaction drops whole segments below the snapshot', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const segmentBytes = 4096;
    const a = await openRaftStorage({ dir, segmentBytes });
    await a.storage.saveHardState({ term: 1, vote: 'h3', commit: 0 });
    const entries = makeEntries(1, 300, 1, 200);
    for (let i = 0; i < entries.length; i += 10) await a.storage.append(entries.slice(i, i + 10));
    const wal = (await readdir(dir)).filter((n) => n.endsWith('.wal'));
    assert.ok(wal.length >= 15, `${wal.length} segments`);
    assert.equal(a.storage.stats().segmentsCreated, wal.length);
    await a.storage.close();

    const b = await openRaftStorage({ dir, segmentBytes });
    assert.deepEqual(describe(b.recovered.entries), describe(entries));
    await b.storage.saveHardState({ term: 1, vote: 'h3', commit: 250 });
    await b.storage.saveSnapshot({
      meta: { index: 250, term: 1, conf: { voters: ['h1', 'h2', 'h3'], learners: [], votersOutgoing: [] } },
      data: new Uint8Array([1, 2, 3]),
    });
    assert.equal(b.storage.firstIndex, 251);
    await b.storage.compact();
    const left = (await readdir(dir)).filter((n) => n.endsWith('.wal'));
    // 10 entries of 200 bytes fill a 4 KiB segment, so exactly the segments from 251 on stay.
    assert.deepEqual(
      left.map((n) => parseInt(n.slice(17, 33), 16)),
      [251, 261, 271, 281, 291],
    );
    assert.equal(b.storage.stats().segmentsRemoved, wal.length - left.length);
    await b.storage.append(makeEntries(301, 305, 2, 200));
    await b.storage.close();

    const c = await openRaftStorage({ dir, segmentBytes });
    assert.equal(c.recovered.snapshot?.meta.index, 250);
    assert.deepEqual(c.recovered.hardState, { term: 1, vote: 'h3', commit: 250 }, 'hard state outlives its segment');
    assert.deepEqual(
      describe(c.recovered.entries),
      describe([...makeEntries(251, 300, 1, 200), ...makeEntries(301, 305, 2, 200)]),
    );
    await c.storage.close();
  } finally {
    await cleanup();
  }
});

test('a failed write poisons the storage: that call and every later one reject with STORAGE_FAILED', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const { storage } = await openRaftStorage({ dir, segmentBytes: 4096 });
    await storage.append(makeEntries(1, 1, 1));
    // Removing the directory makes the next segment creation fail (ENOENT), even as root.
    await rm(dir, { recursive: true, force: true });
    const isFailed = (err: unknown) => hasCode(err, ErrorCode.STORAGE_FAILED);
    await assert.rejects(storage.append(makeEntries(2, 30, 1, 300)), isFailed);
    await assert.rejects(storage.append(makeEntries(31, 31, 1)), isFailed);
    await assert.rejects(storage.sync(), isFailed);
    await storage.close();
  } finally {
    await cleanup();
  }
});

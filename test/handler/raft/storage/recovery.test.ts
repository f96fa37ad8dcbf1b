import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { openRaftStorage } from '../../../../handler/raft/storage/index.ts';
import type { StorageCorruptError } from '../../../../handler/raft/storage/index.ts';
import { scanRecord, viewOf } from '../../../../handler/raft/storage/record.ts';
import { entryRecordBytes } from '../../../../handler/raft/storage/records.ts';
import { ErrorCode, hasCode } from '../../../../shared/errors.ts';
import { describe, makeEntries, tempDir } from './helpers.ts';

async function walFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.wal')).sort().map((n) => join(dir, n));
}

/** Small segments for the chain tests: 60 entries of 300 bytes fill three or more of them. */
const CHAIN_SEGMENT_BYTES = 4096;

/** Writes entries 1..60 across several segments and closes the log; returns the segment files in order. */
async function writeSegmentChain(dir: string): Promise<string[]> {
  const a = await openRaftStorage({ dir, segmentBytes: CHAIN_SEGMENT_BYTES });
  for (let i = 1; i <= 60; i += 5) await a.storage.append(makeEntries(i, i + 4, 1, 300));
  await a.storage.close();
  return walFiles(dir);
}

/** Byte offsets where each record of a segment file starts. */
function recordOffsets(bytes: Uint8Array): number[] {
  const view = viewOf(bytes);
  const out: number[] = [];
  let offset = 0;
  for (;;) {
    const r = scanRecord(bytes, view, offset);
    if (r.status !== 'ok') return out;
    out.push(offset);
    offset = r.end;
  }
}

function expectCorrupt(path: string, offset: number) {
  return (err: unknown) => {
    assert.ok(hasCode(err, ErrorCode.STORAGE_CORRUPT), `expected STORAGE_CORRUPT, got ${String(err)}`);
    assert.equal((err as StorageCorruptError).path, path);
    assert.equal((err as StorageCorruptError).offset, offset);
    return true;
  };
}

test('a torn final record is cut off at every byte offset, whether missing or zero-filled', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const a = await openRaftStorage({ dir });
    const kept = makeEntries(1, 5, 1, 24);
    await a.storage.append(kept, { term: 1, vote: 'h1', commit: 2 });
    const last = makeEntries(6, 6, 1, 40);
    await a.storage.append(last);
    await a.storage.close();
    const [segment] = await walFiles(dir);
    const full = new Uint8Array(await readFile(segment!));
    const start = full.length - entryRecordBytes(last[0]!);
    const warnings: unknown[] = [];
    const logger = { warn: (fields: Record<string, unknown>) => void warnings.push(fields) };

    for (let cut = start; cut < full.length; cut++) {
      for (const variant of ['missing', 'zeroed'] as const) {
        const torn = variant === 'missing' ? full.slice(0, cut) : full.slice();
        if (variant === 'zeroed') torn.fill(0, cut);
        await writeFile(segment!, torn);
        warnings.length = 0;
        const b = await openRaftStorage({ dir, logger });
        const where = `${variant} from byte ${cut}`;
        assert.deepEqual(describe(b.recovered.entries), describe(kept), where);
        assert.deepEqual(b.recovered.hardState, { term: 1, vote: 'h1', commit: 2 }, where);
        const expectTorn = variant === 'zeroed' || cut > start;
        assert.deepEqual(
          b.recovered.tornTail,
          expectTorn ? { path: segment, offset: start, droppedBytes: torn.length - start } : null,
          where,
        );
        assert.equal(warnings.length, expectTorn ? 1 : 0, where);
        await b.storage.close();
        assert.equal((await readFile(segment!)).length, start, `${where}: file truncated to the last whole record`);
      }
    }

    // The repaired log takes new appends and keeps them.
    const c = await openRaftStorage({ dir });
    await c.storage.append(makeEntries(6, 7, 2));
    await c.storage.close();
    const d = await openRaftStorage({ dir });
    assert.deepEqual(describe(d.recovered.entries), describe([...kept, ...makeEntries(6, 7, 2)]));
    await d.storage.close();
  } finally {
    await cleanup();
  }
});

test('a bad checksum in the middle of the last segment refuses to start, naming file and offset', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const a = await openRaftStorage({ dir });
    await a.storage.append(makeEntries(1, 10, 1, 32));
    await a.storage.close();
    const [segment] = await walFiles(dir);
    const bytes = new Uint8Array(await readFile(segment!));
    const offsets = recordOffsets(bytes);
    // Records: segment header, hard state, entries 1..10.
    assert.equal(offsets.length, 12);
    const victim = offsets[6]!;

    const payloadFlip = bytes.slice();
    payloadFlip[victim + 20]! ^= 0x04;
    await writeFile(segment!, payloadFlip);
    await assert.rejects(openRaftStorage({ dir }), expectCorrupt(segment!, victim));

    const lengthFlip = bytes.slice();
    lengthFlip[victim]! ^= 0x01;
    await writeFile(segment!, lengthFlip);
    await assert.rejects(openRaftStorage({ dir }), expectCorrupt(segment!, victim));

    // Zeros in the middle followed by valid records are not a torn tail either.
    const zeroed = bytes.slice();
    zeroed.fill(0, victim, offsets[7]!);
    await writeFile(segment!, zeroed);
    await assert.rejects(openRaftStorage({ dir }), expectCorrupt(segment!, victim));
  } finally {
    await cleanup();
  }
});

test('damage to the final record of an earlier segment is corruption, not a torn tail', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const files = await writeSegmentChain(dir);
    assert.ok(files.length >= 3);
    const victim = files[1]!;
    const bytes = new Uint8Array(await readFile(victim));
    const lastRecord = recordOffsets(bytes).at(-1)!;
    await writeFile(victim, bytes.subarray(0, bytes.length - 3));
    await assert.rejects(openRaftStorage({ dir, segmentBytes: CHAIN_SEGMENT_BYTES }), expectCorrupt(victim, lastRecord));
  } finally {
    await cleanup();
  }
});

test('a missing segment in the middle of the chain refuses to start', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const files = await writeSegmentChain(dir);
    await unlink(files[1]!);
    await assert.rejects(openRaftStorage({ dir, segmentBytes: CHAIN_SEGMENT_BYTES }), expectCorrupt(files[2]!, 0));
  } finally {
    await cleanup();
  }
});

test('an empty last segment left by a crash right after creating it is removed', async () => {
  const { dir, cleanup } = await tempDir();
  try {
    const a = await openRaftStorage({ dir });
    await a.storage.append(makeEntries(1, 3, 1));
    await a.storage.close();
    const empty = join(dir, '0000000000000001-0000000000000004.wal');
    await writeFile(empty, new Uint8Array(0));
    const b = await openRaftStorage({ dir });
    assert.deepEqual(describe(b.recovered.entries), describe(makeEntries(1, 3, 1)));
    assert.equal((await walFiles(dir)).length, 1);
    await b.storage.append(makeEntries(4, 4, 1));
    await b.storage.close();
    const c = await openRaftStorage({ dir });
    assert.equal(c.recovered.entries.length, 4);
    await c.storage.close();
  } finally {
    await cleanup();
  }
});

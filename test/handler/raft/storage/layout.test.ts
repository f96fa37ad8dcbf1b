import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  isTempFileName,
  parseSegmentFileName,
  parseSnapshotFileName,
  segmentFileName,
  snapshotFileName,
} from '../../../../handler/raft/storage/layout.ts';
import { decodeSnapshotFile, encodeSnapshotFile } from '../../../../handler/raft/storage/snapshot-file.ts';

test('segment and snapshot file names sort by seq and index and parse back', () => {
  assert.equal(segmentFileName(1, 0x1001), '0000000000000001-0000000000001001.wal');
  assert.deepEqual(parseSegmentFileName('0000000000000001-0000000000001001.wal'), { seq: 1, firstIndex: 0x1001 });
  assert.equal(snapshotFileName(255, 3), 'snap-00000000000000ff-0000000000000003.snap');
  assert.deepEqual(parseSnapshotFileName('snap-00000000000000ff-0000000000000003.snap'), { index: 255, term: 3 });
  assert.equal(parseSegmentFileName('0000000000000001-0000000000001001.wal.tmp'), null);
  assert.equal(parseSegmentFileName('000000000000000g-0000000000001001.wal'), null);
  assert.equal(parseSnapshotFileName('snap-00000000000000ff.snap'), null);
  assert.equal(isTempFileName('snap-00000000000000ff-0000000000000003.snap.tmp'), true);
  assert.equal(isTempFileName('snap-00000000000000ff-0000000000000003.snap'), false);
});

const snapshot = {
  meta: { index: 42, term: 7, conf: { voters: ['h1', 'h2', 'h3'], learners: ['h4'], votersOutgoing: [] } },
  data: new TextEncoder().encode('state machine bytes'),
};

test('a snapshot file round-trips meta, conf state and data', () => {
  const decoded = decodeSnapshotFile(encodeSnapshotFile(snapshot));
  assert.deepEqual(decoded, { ok: true, snapshot });
});

test('a flipped bit anywhere in a snapshot file is reported with an offset', () => {
  const bytes = encodeSnapshotFile(snapshot);
  for (let i = 0; i < bytes.length; i++) {
    const bad = bytes.slice();
    bad[i]! ^= 0x10;
    const r = decodeSnapshotFile(bad);
    assert.equal(r.ok, false, `flip at byte ${i}`);
    if (!r.ok) assert.ok(r.offset >= 0 && r.offset < bytes.length);
  }
  const r = decodeSnapshotFile(bytes.subarray(0, bytes.length - 1));
  assert.equal(r.ok, false);
});

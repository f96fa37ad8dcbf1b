import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RECORD_HEADER_BYTES, RecordType, scanRecord, viewOf } from '../../../../handler/raft/storage/record.ts';
import {
  decodeEntry,
  decodeHardState,
  decodeSegmentHeader,
  encodeAppend,
  encodeHardState,
  encodeSegmentHeader,
} from '../../../../handler/raft/storage/records.ts';
import { makeEntries } from './helpers.ts';

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const unhex = (s: string) => Uint8Array.from(s.match(/../g)!, (h) => parseInt(h, 16));

test('a hard state record has the documented byte layout', () => {
  // len=19 | crc32c(len) | crc32c(payload) | type 3 | term=1 | commit=2 | "h1"
  assert.equal(
    hex(encodeHardState({ term: 1, vote: 'h1', commit: 2 })),
    '13000000c37321c319631b3803010000000000000002000000000000006831',
  );
});

test('a segment header record has the documented byte layout and decodes back', () => {
  const bytes = encodeSegmentHeader({ seq: 1, reset: true, prevIndex: 0x1_0000_0002, prevTerm: 3 });
  assert.equal(
    hex(bytes),
    '1f000000d621474e798265e3014150574c0101010000000000000002000000010000000300000000000000',
  );
  const view = viewOf(bytes);
  const r = scanRecord(bytes, view, 0);
  assert.equal(r.status, 'ok');
  if (r.status !== 'ok') return;
  assert.equal(r.type, RecordType.SegmentHeader);
  assert.deepEqual(decodeSegmentHeader(bytes, view, r.bodyStart, r.end), {
    seq: 1,
    reset: true,
    prevIndex: 0x1_0000_0002,
    prevTerm: 3,
  });
});

test('encodeAppend writes entries then the hard state, and scanRecord walks them in order', () => {
  const entries = makeEntries(5, 7, 2, 10);
  const buf = encodeAppend(entries, { term: 2, vote: '', commit: 6 });
  const view = viewOf(buf);
  const seen: string[] = [];
  let offset = 0;
  for (;;) {
    const r = scanRecord(buf, view, offset);
    if (r.status === 'end') break;
    assert.equal(r.status, 'ok');
    if (r.status !== 'ok') return;
    if (r.type === RecordType.Entry) {
      const e = decodeEntry(buf, view, r.bodyStart, r.end);
      assert.deepEqual(e, entries[seen.length]);
      seen.push(`e${e.index}`);
    } else {
      assert.equal(r.type, RecordType.HardState);
      assert.deepEqual(decodeHardState(buf, view, r.bodyStart, r.end), { term: 2, vote: '', commit: 6 });
      seen.push('hs');
    }
    offset = r.end;
  }
  assert.deepEqual(seen, ['e5', 'e6', 'e7', 'hs']);
});

test('scanRecord tells a short header, a short payload and bad checksums apart', () => {
  const rec = encodeHardState({ term: 9, vote: 'node-a', commit: 4 });
  const view = (b: Uint8Array) => viewOf(b);
  assert.equal(scanRecord(rec.subarray(0, 5), view(rec.subarray(0, 5)), 0).status, 'short-header');
  const cut = rec.subarray(0, rec.length - 1);
  assert.equal(scanRecord(cut, view(cut), 0).status, 'short-payload');
  const badLen = rec.slice();
  badLen[0]! ^= 0x01;
  assert.equal(scanRecord(badLen, view(badLen), 0).status, 'bad-header');
  const badBody = rec.slice();
  badBody[RECORD_HEADER_BYTES + 3]! ^= 0x80;
  assert.equal(scanRecord(badBody, view(badBody), 0).status, 'bad-payload');
  const zeros = new Uint8Array(40);
  assert.equal(scanRecord(zeros, view(zeros), 0).status, 'bad-header');
  // A zero length with a valid length checksum is impossible to write, so it is reported.
  const zeroLen = unhex('0000000000000000000000');
  assert.equal(scanRecord(zeroLen, view(zeroLen), 0).status, 'short-header');
});

test('decodeEntry rejects an unknown entry type', () => {
  const buf = encodeAppend(makeEntries(1, 1, 1, 4), undefined);
  const v = viewOf(buf);
  buf[RECORD_HEADER_BYTES + 1 + 16] = 7;
  assert.throws(() => decodeEntry(buf, v, RECORD_HEADER_BYTES + 1, buf.length), RangeError);
});

test('u64 fields round-trip values above 2^32', () => {
  const e = { term: 2 ** 40 + 5, index: 2 ** 52 + 1, type: 1 as const, data: new Uint8Array([1, 2]) };
  const buf = encodeAppend([e], undefined);
  const v = viewOf(buf);
  assert.deepEqual(decodeEntry(buf, v, RECORD_HEADER_BYTES + 1, buf.length), e);
});

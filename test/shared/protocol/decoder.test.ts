// The incremental FrameDecoder: input split at any byte, several frames per chunk, hard
// limits, and failures reported through `error` rather than thrown (websockets/ws
// test/receiver.test.js, "spanning multiple writes").
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../../shared/errors.ts';
import {
  DecoderState,
  DEFAULT_MAX_BUFFERED_BYTES,
  FrameDecoder,
  FrameType,
  fromHex,
  MAX_FRAME_LENGTH,
  type Frame,
} from '../../../shared/protocol/index.ts';

/** Pushes every chunk, draining after each push as an owner must; returns frames and the end error. */
function run(d: FrameDecoder, chunks: Uint8Array[]): { frames: Frame[]; error: unknown } {
  const frames: Frame[] = [];
  for (const c of chunks) {
    if (!d.push(c)) break;
    for (let f = d.next(); f !== undefined; f = d.next()) frames.push(f);
  }
  return { frames, error: d.error ?? d.end() };
}

// An OPEN (domain), a padded DATA and a PING: 25 + 15 + 16 bytes, written from the tables.
const threeFrames = fromHex(
  '01 00 0011 00000003 01 03 0b 6578616d706c652e636f6d 0050 00' +
    '00 01 0007 00000003 0003 6869 000000' +
    '07 00 0008 00000000 0102030405060708',
);
const expected: Frame[] = [
  { type: FrameType.OPEN, streamId: 3, network: 1, address: { addressType: 3, host: 'example.com', port: 80 } },
  { type: FrameType.DATA, streamId: 3, payload: fromHex('6869'), pad: 3 },
  { type: FrameType.PING, opaque: fromHex('0102030405060708') },
];

describe('FrameDecoder', () => {
  it('decodes several frames from one chunk', () => {
    assert.deepEqual(run(new FrameDecoder(), [threeFrames]), { frames: expected, error: undefined });
  });

  it('decodes the same frames when the input is split at every byte offset across two reads', () => {
    for (let cut = 0; cut <= threeFrames.length; cut++) {
      const d = new FrameDecoder();
      const result = run(d, [threeFrames.slice(0, cut), threeFrames.slice(cut)]);
      assert.deepEqual(result, { frames: expected, error: undefined }, `cut at ${cut}`);
      assert.equal(d.state, DecoderState.ENDED);
    }
  });

  it('decodes the same frames fed one byte at a time', () => {
    const chunks = [...threeFrames].map((b) => Uint8Array.of(b));
    assert.deepEqual(run(new FrameDecoder(), chunks), { frames: expected, error: undefined });
  });

  it('splits at every pair of offsets across three reads', () => {
    for (let a = 0; a <= threeFrames.length; a += 3) {
      for (let b = a; b <= threeFrames.length; b += 2) {
        const chunks = [threeFrames.slice(0, a), threeFrames.slice(a, b), threeFrames.slice(b)];
        assert.deepEqual(run(new FrameDecoder(), chunks).frames, expected, `cuts at ${a}, ${b}`);
      }
    }
  });

  it('returns a payload inside one chunk as a view, and copies one that spans chunks', () => {
    const bytes = fromHex('00 00 0004 00000001 deadbeef');
    const whole = new FrameDecoder();
    whole.push(bytes);
    const f1 = whole.next();
    assert.ok(f1?.type === FrameType.DATA);
    assert.equal(f1.payload.buffer, bytes.buffer);

    const split = new FrameDecoder();
    split.push(bytes.subarray(0, 10));
    assert.equal(split.next(), undefined);
    assert.equal(split.state, DecoderState.BODY);
    split.push(bytes.subarray(10));
    const f2 = split.next();
    assert.ok(f2?.type === FrameType.DATA);
    assert.deepEqual(f2.payload, fromHex('deadbeef'));
    assert.notEqual(f2.payload.buffer, bytes.buffer);
  });

  it('reports its state and buffered bytes while waiting', () => {
    const d = new FrameDecoder();
    assert.equal(d.state, DecoderState.HEADER);
    d.push(threeFrames.subarray(0, 5));
    assert.equal(d.next(), undefined);
    assert.equal(d.bufferedBytes, 5);
    assert.equal(d.state, DecoderState.HEADER);
    d.push(threeFrames.subarray(5, 12));
    assert.equal(d.next(), undefined);
    assert.equal(d.state, DecoderState.BODY);
    assert.equal(d.bufferedBytes, 4);
  });

  it('accepts an empty chunk as a no-op', () => {
    const d = new FrameDecoder();
    assert.equal(d.push(new Uint8Array(0)), true);
    assert.equal(d.next(), undefined);
    assert.equal(d.end(), undefined);
  });

  it('fails with BUFFER_LIMIT when a push would exceed maxBufferedBytes, and queues nothing', () => {
    const d = new FrameDecoder({ maxFrameLength: 16, maxBufferedBytes: 30 });
    assert.equal(d.push(new Uint8Array(20)), true);
    assert.equal(d.push(new Uint8Array(11)), false);
    assert.equal(d.error?.code, ErrorCode.BUFFER_LIMIT);
    assert.equal(d.state, DecoderState.FAILED);
    assert.equal(d.bufferedBytes, 0);
  });

  it('refuses an oversized frame from its header alone, before buffering the body', () => {
    const d = new FrameDecoder({ maxFrameLength: 1024 });
    d.push(fromHex('00 00 0401 00000001'));
    assert.equal(d.next(), undefined);
    assert.equal(d.error?.code, ErrorCode.FRAME_TOO_LARGE);
    assert.equal(d.bufferedBytes, 0);
  });

  it('reports TRUNCATED from end() inside a header and inside a body', () => {
    const inHeader = new FrameDecoder();
    inHeader.push(threeFrames.subarray(0, 3));
    assert.equal(inHeader.next(), undefined);
    assert.equal(inHeader.end()?.code, ErrorCode.TRUNCATED);
    assert.equal(inHeader.state, DecoderState.FAILED);

    const inBody = new FrameDecoder();
    inBody.push(threeFrames.subarray(0, 9));
    assert.equal(inBody.next(), undefined);
    assert.equal(inBody.end()?.code, ErrorCode.TRUNCATED);
  });

  it('does nothing after failing: push refuses, next and end keep the first error', () => {
    const d = new FrameDecoder();
    d.push(fromHex('0c 00 0000 00000000'));
    assert.equal(d.next(), undefined);
    const first = d.error;
    assert.equal(first?.code, ErrorCode.UNKNOWN_FRAME_TYPE);
    assert.equal(d.push(threeFrames), false);
    assert.equal(d.next(), undefined);
    assert.equal(d.end(), first);
    assert.equal(d.bufferedBytes, 0);
  });

  it('refuses input after end()', () => {
    const d = new FrameDecoder();
    assert.equal(d.end(), undefined);
    assert.equal(d.state, DecoderState.ENDED);
    assert.equal(d.push(threeFrames), false);
    assert.equal(d.next(), undefined);
    assert.equal(d.end(), undefined);
  });

  it('keeps frames decoded before a bad frame in the same chunk', () => {
    const d = new FrameDecoder();
    const result = run(d, [fromHex('05 00 0000 00000001  00 00 0000 00000000')]);
    assert.deepEqual(result.frames, [{ type: FrameType.FIN, streamId: 1 }]);
    assert.equal((result.error as { code?: string }).code, ErrorCode.BAD_FRAME);
  });

  it('decodes a maximal frame spread over many chunks within the buffer limit', () => {
    const d = new FrameDecoder({ maxFrameLength: MAX_FRAME_LENGTH, maxBufferedBytes: 8 + MAX_FRAME_LENGTH });
    const frame = new Uint8Array(8 + MAX_FRAME_LENGTH);
    frame.set(fromHex('00 00 ffe7 00000009'));
    frame.fill(0xab, 8);
    const chunks: Uint8Array[] = [];
    for (let o = 0; o < frame.length; o += 4096) chunks.push(frame.subarray(o, o + 4096));
    const { frames, error } = run(d, chunks);
    assert.equal(error, undefined);
    assert.equal(frames.length, 1);
    assert.ok(frames[0]?.type === FrameType.DATA);
    assert.equal(frames[0].payload.length, MAX_FRAME_LENGTH);
    assert.ok(frames[0].payload.every((b) => b === 0xab));
  });

  it('validates its limits with BAD_CONFIG', () => {
    assert.equal(new FrameDecoder().maxBufferedBytes, DEFAULT_MAX_BUFFERED_BYTES);
    for (const options of [
      { maxFrameLength: -1 },
      { maxFrameLength: MAX_FRAME_LENGTH + 1 },
      { maxFrameLength: 1.5 },
      { maxFrameLength: 100, maxBufferedBytes: 107 },
    ]) {
      assert.throws(
        () => new FrameDecoder(options),
        (err: unknown) => (err as { code?: string }).code === ErrorCode.BAD_CONFIG,
      );
    }
  });
});

// FrameBatch: several frames into one preallocated message buffer.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../../shared/errors.ts';
import { Prng } from '../../support/prng.ts';
import {
  decodeFrames,
  encodeFrames,
  FRAME_HEADER_LENGTH,
  FrameBatch,
  FrameType,
  fromHex,
  MAX_MESSAGE_PLAINTEXT,
  toHex,
  type Frame,
} from '../../../shared/protocol/index.ts';
import { randomFrame } from './arbitrary.ts';

function codeOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return (err as { code?: unknown }).code;
  }
  return undefined;
}

describe('FrameBatch', () => {
  it('writes the same bytes as encodeFrames() for the frames it accepted', () => {
    const rng = new Prng(0xba7c4);
    for (let round = 0; round < 50; round++) {
      const batch = new FrameBatch({ capacity: 4096 });
      const accepted: Frame[] = [];
      for (let i = 0; i < 40; i++) {
        const f = randomFrame(rng);
        const before = batch.length;
        if (batch.append(f)) accepted.push(f);
        else assert.equal(batch.length, before, 'a refused frame writes nothing');
      }
      assert.equal(batch.frameCount, accepted.length);
      const message = batch.take();
      assert.equal(toHex(message), toHex(encodeFrames(accepted)));
      assert.deepEqual(decodeFrames(message), accepted);
      assert.equal(batch.length, 0);
      assert.equal(batch.frameCount, 0);
    }
  });

  it('appendData() writes the documented DATA frame and takes the whole payload when it fits', () => {
    const batch = new FrameBatch();
    assert.equal(batch.appendData(7, fromHex('0102')), 2);
    assert.equal(toHex(batch.take()), '000000020000000701' + '02');
  });

  it('appendData() splits at maxFrameLength and at the space left', () => {
    const batch = new FrameBatch({ capacity: 100, maxFrameLength: 40 });
    const payload = new Uint8Array(200).map((_, i) => i);
    assert.equal(batch.appendData(1, payload), 40);
    assert.equal(batch.appendData(1, payload.subarray(40)), 40);
    // 100 - 96 = 4 bytes left: not even a header.
    assert.equal(batch.appendData(1, payload.subarray(80)), 0);
    assert.equal(batch.remaining, 4);
    const frames = decodeFrames(batch.take());
    assert.deepEqual(frames, [
      { type: FrameType.DATA, streamId: 1, payload: payload.subarray(0, 40) },
      { type: FrameType.DATA, streamId: 1, payload: payload.subarray(40, 80) },
    ]);
    const small = new FrameBatch({ capacity: 20 });
    assert.equal(small.appendData(3, payload), 12);
  });

  it('appendData() with padding writes a PADDED frame and leaves room for the padding', () => {
    const batch = new FrameBatch({ capacity: 30 });
    assert.equal(batch.appendData(1, new Uint8Array(50).fill(9), 5), 30 - 8 - 2 - 5);
    assert.deepEqual(decodeFrames(batch.take()), [
      { type: FrameType.DATA, streamId: 1, payload: new Uint8Array(15).fill(9), pad: 5 },
    ]);
  });

  it('appendData() writes nothing for an empty payload', () => {
    const batch = new FrameBatch();
    assert.equal(batch.appendData(1, new Uint8Array(0)), 0);
    assert.equal(batch.length, 0);
  });

  it('appendData() refuses stream 0 and a bad pad with BAD_FRAME', () => {
    const batch = new FrameBatch();
    assert.equal(codeOf(() => batch.appendData(0, new Uint8Array(1))), ErrorCode.BAD_FRAME);
    assert.equal(codeOf(() => batch.appendData(1, new Uint8Array(1), -2)), ErrorCode.BAD_FRAME);
  });

  it('append() refuses a frame above the peer maxFrameLength with FRAME_TOO_LARGE', () => {
    const batch = new FrameBatch({ maxFrameLength: 16 });
    assert.equal(codeOf(() => batch.append({ type: FrameType.DATA, streamId: 1, payload: new Uint8Array(17) })), ErrorCode.FRAME_TOO_LARGE);
  });

  it('padTo() fills the message to an exact size with PADDING frames', () => {
    for (const [capacity, max, start, target] of [
      [MAX_MESSAGE_PLAINTEXT, 16384, 20, MAX_MESSAGE_PLAINTEXT],
      [MAX_MESSAGE_PLAINTEXT, 1024, 0, 4096],
      [4096, 16384, 8, 16],
      [4096, 16384, 30, 30],
      [200, 50, 0, 117],
    ] as const) {
      const batch = new FrameBatch({ capacity, maxFrameLength: max });
      if (start > 0) batch.append({ type: FrameType.PADDING, length: start - FRAME_HEADER_LENGTH });
      assert.ok(batch.padTo(target), `${capacity}/${max}/${start}/${target}`);
      assert.equal(batch.length, target);
      const frames = decodeFrames(batch.take(), max);
      assert.ok(frames.every((f) => f.type === FrameType.PADDING));
    }
  });

  it('padTo() refuses gaps of 1-7 bytes, shrinking, and sizes above capacity', () => {
    const batch = new FrameBatch({ capacity: 100 });
    batch.append({ type: FrameType.FIN, streamId: 1 });
    assert.equal(batch.padTo(15), false);
    assert.equal(batch.padTo(4), false);
    assert.equal(batch.padTo(101), false);
    assert.equal(batch.length, 8);
  });

  it('zeroes padding when the buffer is reused', () => {
    const batch = new FrameBatch({ capacity: 64 });
    batch.appendData(1, new Uint8Array(40).fill(0xff));
    batch.take();
    batch.append({ type: FrameType.FIN, streamId: 1, pad: 10 });
    assert.ok(batch.padTo(64));
    assert.equal(
      toHex(batch.take()),
      '0501000c00000001' + '000a' + '00'.repeat(10) + '0b00002400000000' + '00'.repeat(36),
    );
  });

  it('validates its sizes with BAD_CONFIG', () => {
    for (const options of [{ capacity: 7 }, { capacity: MAX_MESSAGE_PLAINTEXT + 1 }, { maxFrameLength: 7 }, { maxFrameLength: 65512 }]) {
      assert.equal(codeOf(() => new FrameBatch(options)), ErrorCode.BAD_CONFIG);
    }
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createMemoryTransportPair } from '../../../shared/mux/memory-transport.ts';
import { MuxSession } from '../../../shared/mux/session.ts';
import { FrameType, MAX_MESSAGE_PLAINTEXT } from '../../../shared/protocol/constants.ts';
import { decodeFrames } from '../../../shared/protocol/decode.ts';
import { PaddingPolicy, type PaddingPolicyValue } from '../../../shared/protocol/hello.ts';
import { pseudoRandomBytes, settle, TCP_REQUEST } from './pair.ts';

/** Sends `data` as early data on one stream and returns the plaintext messages the peer got. */
async function capture(paddingPolicy: PaddingPolicyValue, data: Uint8Array): Promise<Uint8Array[]> {
  const [t, raw] = createMemoryTransportPair();
  const messages: Uint8Array[] = [];
  raw.onMessage((m) => messages.push(m));
  const session = new MuxSession(t, { role: 'opener', keepaliveIntervalMs: 0, paddingPolicy, randomInt: (n) => (n * 3) >> 2 });
  const s = session.open(TCP_REQUEST);
  for (let o = 0; o < data.length; o += 5000) void s.write(data.subarray(o, o + 5000));
  await settle(5);
  session.close();
  await settle();
  return messages;
}

function payloadOf(messages: Uint8Array[]): Uint8Array {
  const parts = messages.flatMap((m) => decodeFrames(m)).filter((f) => f.type === FrameType.DATA);
  const out = new Uint8Array(parts.reduce((n, f) => n + f.payload.length, 0));
  let o = 0;
  for (const f of parts) {
    out.set(f.payload, o);
    o += f.payload.length;
  }
  return out;
}

describe('MuxSession padding', () => {
  it('BUCKETS fills every message to one of the bucket sizes', async () => {
    const data = pseudoRandomBytes(150_000, 5);
    const messages = await capture(PaddingPolicy.BUCKETS, data);
    const buckets = new Set([256, 1024, 4096, 16384, MAX_MESSAGE_PLAINTEXT]);
    for (const m of messages) assert.ok(buckets.has(m.length), `message of ${m.length} bytes`);
    assert.deepEqual(payloadOf(messages), data);
  });

  it('RANDOM adds PADDING frames and keeps the data intact', async () => {
    const data = pseudoRandomBytes(50_000, 6);
    const messages = await capture(PaddingPolicy.RANDOM, data);
    const padding = messages.flatMap((m) => decodeFrames(m)).filter((f) => f.type === FrameType.PADDING);
    assert.ok(padding.length > 0);
    assert.deepEqual(payloadOf(messages), data);
  });

  it('NONE sends no padding and packs frames up to the message size', async () => {
    const data = pseudoRandomBytes(150_000, 7);
    const messages = await capture(PaddingPolicy.NONE, data);
    const frames = messages.flatMap((m) => decodeFrames(m));
    assert.equal(frames.filter((f) => f.type === FrameType.PADDING).length, 0);
    assert.ok(messages.every((m) => m.length <= MAX_MESSAGE_PLAINTEXT));
    // 150 kB of DATA in 16 KiB frames: a handful of messages, not one per write.
    assert.ok(messages.length <= 5, `${messages.length} messages`);
    assert.deepEqual(payloadOf(messages), data);
  });
});

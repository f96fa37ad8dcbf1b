import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { MuxStream } from '../../../shared/mux/stream.ts';
import { concatBytes, fixedWindows, makePair, pseudoRandomBytes, readAll, settle, TCP_REQUEST } from './pair.ts';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const KiB = 1024;

/** Writes `data` in `chunk`-sized pieces, awaiting each write; `progress.accepted` counts bytes handed over. */
async function writeAll(s: MuxStream, data: Uint8Array, chunk: number, progress: { accepted: number }): Promise<void> {
  for (let o = 0; o < data.length; o += chunk) {
    const piece = data.subarray(o, o + chunk);
    progress.accepted += piece.length;
    await s.write(piece);
  }
  s.end();
}

describe('MuxSession flow control', () => {
  it('a stalled reader stops the writer within window + queue, and everything arrives when it resumes', async () => {
    const W = 64 * KiB;
    const H = 32 * KiB;
    const chunk = 8 * KiB;
    const limits = { streamWindow: W, sessionWindow: 4 * W };
    const p = makePair({ remote: limits, streamHighWater: H }, fixedWindows(limits));
    const data = pseudoRandomBytes(1024 * KiB, 7);
    const s = await p.opener.connect(TCP_REQUEST);
    const r = await p.nextAccepted();
    const progress = { accepted: 0 };
    const writing = writeAll(s, data, chunk, progress);
    await settle(20);
    // The reader has not read: the peer holds at most one window, we hold at most the queue.
    assert.equal(r.readableLength, W);
    assert.equal(s.sendCredit, 0);
    assert.ok(s.writableLength <= H + chunk, `queued ${s.writableLength}`);
    assert.ok(progress.accepted <= W + H + chunk, `writer got rid of ${progress.accepted} bytes`);
    const before = progress.accepted;
    await settle(20);
    assert.equal(progress.accepted, before, 'the writer stays blocked while the reader stalls');
    const got = await readAll(r);
    await writing;
    assert.equal(sha(got), sha(data));
    await p.close();
  });

  it('streams share the session window: a stalled stream cannot exceed it, and others proceed once it is read', async () => {
    const S = 64 * KiB;
    const limits = { streamWindow: 64 * KiB, sessionWindow: S };
    const p = makePair({ remote: limits }, fixedWindows(limits));
    const a = await p.opener.connect(TCP_REQUEST);
    const ra = await p.nextAccepted();
    const b = await p.opener.connect(TCP_REQUEST);
    const rb = await p.nextAccepted();
    const da = pseudoRandomBytes(200 * KiB, 1);
    const db = pseudoRandomBytes(200 * KiB, 2);
    const wa = writeAll(a, da, 16 * KiB, { accepted: 0 });
    const wb = writeAll(b, db, 16 * KiB, { accepted: 0 });
    await settle(20);
    assert.ok(ra.readableLength + rb.readableLength <= S, `buffered ${ra.readableLength + rb.readableLength}`);
    assert.ok(ra.readableLength + rb.readableLength > S - 16 * KiB);
    const [ga, gb] = await Promise.all([readAll(ra), readAll(rb)]);
    await Promise.all([wa, wb]);
    assert.equal(sha(ga), sha(da));
    assert.equal(sha(gb), sha(db));
    await p.close();
  });

  it('credit returns only as the consumer reads: reading one chunk at a time keeps the sender going', async () => {
    const W = 32 * KiB;
    const limits = { streamWindow: W, sessionWindow: 8 * W };
    const p = makePair({ remote: limits }, fixedWindows(limits));
    const s = await p.opener.connect(TCP_REQUEST);
    const r = await p.nextAccepted();
    const data = pseudoRandomBytes(300 * KiB, 3);
    const writing = writeAll(s, data, 4 * KiB, { accepted: 0 });
    const parts: Uint8Array[] = [];
    for (let i = 0; i < 10_000; i++) {
      const c = await r.read();
      if (c === null) break;
      parts.push(c.slice());
      // Never more than one window buffered, however slowly we read.
      assert.ok(r.readableLength <= W);
      if (i % 7 === 0) await settle(1);
    }
    await writing;
    assert.equal(sha(concatBytes(parts)), sha(data));
    await p.close();
  });

  it('a blocked transport holds DATA in the stream queue and write() waits for the drain', async () => {
    const p = makePair({ streamHighWater: 16 * KiB }, {}, { highWaterMark: 32 * KiB, lowWaterMark: 8 * KiB });
    const s = await p.opener.connect(TCP_REQUEST);
    const r = await p.nextAccepted();
    p.openerTransport.pause();
    const data = pseudoRandomBytes(512 * KiB, 4);
    const progress = { accepted: 0 };
    const reading = readAll(r);
    const writing = writeAll(s, data, 8 * KiB, progress);
    await settle(10);
    // One message may overshoot the transport's mark; then nothing more is sent.
    assert.ok(p.openerTransport.bufferedAmount < 32 * KiB + 65536, `transport holds ${p.openerTransport.bufferedAmount}`);
    assert.ok(progress.accepted <= 32 * KiB + 65536 + 16 * KiB + 8 * KiB, `writer got rid of ${progress.accepted}`);
    p.openerTransport.resume();
    await writing;
    assert.equal(sha(await reading), sha(data));
    await p.close();
  });

  it('a relay that credits upstream only after writing downstream stops the source end to end', async () => {
    const W = 64 * KiB;
    const H = 32 * KiB;
    const chunk = 16 * KiB;
    const limits = { streamWindow: W, sessionWindow: 4 * W };
    // client -> handler session, handler -> exit link.
    const session = makePair({ remote: limits, streamHighWater: H }, fixedWindows(limits));
    const link = makePair({ remote: limits, streamHighWater: H }, fixedWindows(limits));
    const up = await session.opener.connect(TCP_REQUEST);
    const atHandler = await session.nextAccepted();
    const down = await link.opener.connect(TCP_REQUEST);
    const atExit = await link.nextAccepted();
    const relay = (async () => {
      for (;;) {
        const c = await atHandler.read();
        if (c === null) break;
        // The next read() (which returns this chunk's credit) happens only after this write went through.
        await down.write(c);
      }
      down.end();
    })();
    const data = pseudoRandomBytes(2048 * KiB, 9);
    const progress = { accepted: 0 };
    const writing = writeAll(up, data, chunk, progress);
    await settle(30);
    // Each hop holds at most its window and its queue; the exit holds one window.
    const bound = 2 * (W + H) + 3 * chunk;
    assert.ok(progress.accepted <= bound, `client got rid of ${progress.accepted} bytes, bound ${bound}`);
    assert.equal(atExit.readableLength, W);
    const before = progress.accepted;
    await settle(20);
    assert.equal(progress.accepted, before);
    const got = await readAll(atExit);
    await Promise.all([writing, relay]);
    assert.equal(sha(got), sha(data));
    await session.close();
    await link.close();
  });

  it('a writer held by the session high-water mark is released when another stream is reset', async () => {
    const p = makePair({ sessionHighWater: 32 * KiB, streamHighWater: 1024 * KiB }, {}, { highWaterMark: 1, lowWaterMark: 0 });
    const a = await p.opener.connect(TCP_REQUEST);
    const b = await p.opener.connect(TCP_REQUEST);
    await p.nextAccepted();
    const rb = await p.nextAccepted();
    // Our sends stop reaching the peer and the transport reports "full": everything queues.
    p.openerTransport.pause();
    void a.write(new Uint8Array(1));
    await settle(2);
    let bDone = false;
    void b.write(new Uint8Array(64 * KiB)).then(
      () => (bDone = true),
      () => (bDone = true),
    );
    let aDone = false;
    void a.write(new Uint8Array(1)).then(() => (aDone = true));
    await settle(2);
    assert.equal(aDone, false, 'a waits: the session queues more than its high-water mark');
    rb.reset();
    await settle(5);
    assert.equal(bDone, true);
    assert.equal(aDone, true, 'a is released once b\'s queue is dropped');
    p.openerTransport.resume();
    await p.close();
  });

  it('write() refuses to queue beyond maxStreamQueue with BUFFER_LIMIT', async () => {
    const p = makePair({ maxStreamQueue: 64 * KiB, streamHighWater: 16 * KiB });
    const s = await p.opener.connect(TCP_REQUEST);
    await p.nextAccepted();
    p.openerTransport.pause();
    // Ignore the promise on purpose: a misbehaving writer that does not wait.
    void s.write(new Uint8Array(60 * KiB)).catch(() => {});
    await assert.rejects(s.write(new Uint8Array(8 * KiB)), { code: 'APFSDS_ERR_BUFFER_LIMIT' });
    p.openerTransport.resume();
    await p.close();
  });

  it('batches the frames of one tick into few transport messages', async () => {
    const p = makePair();
    const s = await p.opener.connect(TCP_REQUEST);
    await p.nextAccepted();
    const before = p.openerTransport.sentMessages;
    // 64 small writes in one tick: one message.
    for (let i = 0; i < 64; i++) void s.write(new Uint8Array(100));
    await settle(2);
    assert.equal(p.openerTransport.sentMessages - before, 1);
    await p.close();
  });

  it('fills messages from a writer that awaits every write (a relay pump), instead of one frame each', async () => {
    const p = makePair({ remote: { maxFrameLength: 16 * KiB } }, { local: { maxFrameLength: 16 * KiB } });
    const s = await p.opener.connect(TCP_REQUEST);
    await p.nextAccepted();
    const before = p.openerTransport.sentMessages;
    // Eight 16 KiB chunks, each written after the previous write() settled, as a read()/write() relay does.
    const pump = (async () => {
      for (let i = 0; i < 8; i++) await s.write(new Uint8Array(16 * KiB));
    })();
    await pump;
    await settle(2);
    // 128 KiB fit in three messages of 65519 bytes; the 64 KiB stream high-water mark ends a
    // burst early once, so four (not one per chunk: eight).
    assert.ok(p.openerTransport.sentMessages - before <= 4, `sent ${p.openerTransport.sentMessages - before} messages`);
    await p.close();
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ReceiveWindow, SendWindow } from '../../../shared/mux/flow-window.ts';
import { ChunkQueue } from '../../../shared/mux/chunk-queue.ts';
import { MAX_WINDOW } from '../../../shared/protocol/constants.ts';

describe('ReceiveWindow', () => {
  it('refuses bytes beyond the credit it granted', () => {
    const w = new ReceiveWindow(100);
    assert.equal(w.receive(60), true);
    assert.equal(w.receive(41), false);
    assert.equal(w.receive(40), true);
    assert.equal(w.available, 0);
  });

  it('returns credit in batches of at least a quarter of the window', () => {
    const w = new ReceiveWindow(1000);
    w.receive(1000);
    assert.equal(w.consume(100), 0);
    assert.equal(w.consume(100), 0);
    assert.equal(w.consume(50), 250);
    assert.equal(w.available, 250);
    assert.equal(w.owed, 0);
  });

  it('flush() returns whatever is owed', () => {
    const w = new ReceiveWindow(1000);
    w.receive(10);
    w.consume(10);
    assert.equal(w.flush(), 10);
    assert.equal(w.available, 1000);
  });
});

describe('SendWindow', () => {
  it('refuses an increment that overflows 2^31-1', () => {
    const w = new SendWindow(MAX_WINDOW - 5);
    assert.equal(w.grant(6), false);
    assert.equal(w.grant(5), true);
    assert.equal(w.credit, MAX_WINDOW);
  });

  it('refuses a zero increment', () => {
    assert.equal(new SendWindow(0).grant(0), false);
  });
});

describe('ChunkQueue', () => {
  it('hands out views of the pushed chunks without copying', () => {
    const q = new ChunkQueue();
    const a = new Uint8Array([1, 2, 3, 4]);
    q.push(a);
    q.push(new Uint8Array(0));
    q.push(new Uint8Array([5, 6]));
    assert.equal(q.byteLength, 6);
    const first = q.take(3);
    assert.deepEqual([...first], [1, 2, 3]);
    assert.equal(first.buffer, a.buffer);
    // A view never spans two chunks.
    assert.deepEqual([...q.take(10)], [4]);
    assert.deepEqual([...q.peek(10)], [5, 6]);
    assert.deepEqual([...q.shift()!], [5, 6]);
    assert.equal(q.shift(), undefined);
    assert.equal(q.byteLength, 0);
  });

  it('clear() reports the bytes dropped', () => {
    const q = new ChunkQueue();
    q.push(new Uint8Array(10));
    q.take(3);
    assert.equal(q.clear(), 7);
    assert.equal(q.length, 0);
  });

  it('stays correct across many pushes and takes (compaction)', () => {
    const q = new ChunkQueue();
    let next = 0;
    let expect = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 100; i++) q.push(new Uint8Array([next++ & 0xff]));
      for (let i = 0; i < 90; i++) assert.equal(q.take(1)[0], expect++ & 0xff);
    }
    assert.equal(q.byteLength, next - expect);
  });
});

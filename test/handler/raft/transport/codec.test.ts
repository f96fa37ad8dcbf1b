import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ByteReader, ByteWriter } from '../../../../handler/raft/transport/bytes.ts';
import { decodeBatch, encodeBatch, messageSizeBound } from '../../../../handler/raft/transport/codec.ts';
import {
  ControlOp,
  decodeControlRequest,
  decodeControlResponse,
  encodeControlRequest,
  encodeControlResponse,
} from '../../../../handler/raft/transport/control-codec.ts';
import { newMessage } from '../../../../handler/raft/core/messages.ts';
import type { Message } from '../../../../handler/raft/types.ts';
import { EntryType, MessageType } from '../../../../handler/raft/types.ts';
import { ErrorCode } from '../../../../shared/errors.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

function fullMessage(): Message {
  const m = newMessage(MessageType.Snapshot, 'h1', 'h2', 7);
  m.logTerm = 6;
  m.index = 300;
  m.commit = 2 ** 40;
  m.reject = true;
  m.rejectHint = 12;
  m.context = bytes('0102');
  m.entries = [
    { term: 7, index: 301, type: EntryType.Normal, data: bytes('aabbcc') },
    { term: 7, index: 302, type: EntryType.ConfChange, data: new Uint8Array(0) },
  ];
  m.snapshot = {
    meta: { index: 290, term: 6, conf: { voters: ['h1', 'h2', 'h3'], learners: ['h4'], votersOutgoing: [] } },
    offset: 4,
    total: 10,
    data: bytes('0a0b0c'),
  };
  return m;
}

describe('varints', () => {
  it('encode 0, 127, 128, 300 and 2^53-1 as LEB128', () => {
    const w = new ByteWriter(1);
    for (const v of [0, 127, 128, 300, Number.MAX_SAFE_INTEGER]) w.varint(v);
    assert.equal(hex(w.finish()), '00' + '7f' + '8001' + 'ac02' + 'ffffffffffffff0f');
    const r = new ByteReader(w.finish());
    for (const v of [0, 127, 128, 300, Number.MAX_SAFE_INTEGER]) assert.equal(r.varint('v'), v);
  });

  it('refuses a varint longer than 8 bytes or above 2^53', () => {
    assert.throws(() => new ByteReader(bytes('ffffffffffffffff01')).varint('v'), { code: ErrorCode.BAD_FRAME });
    assert.throws(() => new ByteReader(bytes('ffffffffffffff7f')).varint('v'), { code: ErrorCode.BAD_FRAME });
  });

  it('reports a varint cut short as truncated', () => {
    assert.throws(() => new ByteReader(bytes('80')).varint('v'), { code: ErrorCode.TRUNCATED });
  });

  it('refuses to write negative or fractional numbers', () => {
    assert.throws(() => new ByteWriter().varint(-1), { code: ErrorCode.BAD_FRAME });
    assert.throws(() => new ByteWriter().varint(1.5), { code: ErrorCode.BAD_FRAME });
  });
});

describe('raft message batches', () => {
  it('encode a heartbeat as a fixed byte vector', () => {
    const m = newMessage(MessageType.Heartbeat, 'h1', 'h2', 3);
    m.commit = 10;
    // version 1, one message: type 7, flags 0, "h1", "h2", term 3, logTerm 0, index 0, commit 10, hint 0, no context, no entries
    assert.equal(hex(encodeBatch([m])), '0101' + '0700' + '026831' + '026832' + '03' + '00' + '00' + '0a' + '00' + '00' + '00');
  });

  it('round-trip every field, entries and a snapshot chunk', () => {
    const m = fullMessage();
    const [back] = decodeBatch(encodeBatch([m]));
    assert.deepEqual(back, m);
    assert.ok(encodeBatch([m]).length <= messageSizeBound(m) + 8);
  });

  it('round-trip many messages in one batch in order', () => {
    const msgs: Message[] = [];
    for (let i = 0; i < 500; i++) {
      const m = newMessage(MessageType.Append, 'a', 'b', 2);
      m.index = i;
      m.entries = [{ term: 2, index: i + 1, type: EntryType.Normal, data: new Uint8Array(256).fill(i & 0xff) }];
      msgs.push(m);
    }
    assert.deepEqual(decodeBatch(encodeBatch(msgs)), msgs);
  });

  it('report every truncation point as TRUNCATED or BAD_FRAME, never a wrong message', () => {
    const enc = encodeBatch([fullMessage()]);
    for (let cut = 0; cut < enc.length; cut++) {
      assert.throws(
        () => decodeBatch(enc.subarray(0, cut)),
        (err: { code?: string }) => err.code === ErrorCode.TRUNCATED || err.code === ErrorCode.BAD_FRAME,
        `cut at ${cut}`,
      );
    }
  });

  it('refuse an unknown version, type, flag or entry type and trailing bytes', () => {
    const good = encodeBatch([newMessage(MessageType.Vote, 'a', 'b', 1)]);
    const mutate = (at: number, v: number): Uint8Array => {
      const c = good.slice();
      c[at] = v;
      return c;
    };
    assert.throws(() => decodeBatch(mutate(0, 2)), { code: ErrorCode.BAD_FRAME });
    assert.throws(() => decodeBatch(mutate(2, 0)), { code: ErrorCode.BAD_FRAME });
    assert.throws(() => decodeBatch(mutate(2, 15)), { code: ErrorCode.BAD_FRAME });
    assert.throws(() => decodeBatch(mutate(3, 4)), { code: ErrorCode.BAD_FRAME });
    assert.throws(() => decodeBatch(new Uint8Array([...good, 0])), { code: ErrorCode.BAD_FRAME });
    const m = newMessage(MessageType.Append, 'a', 'b', 1);
    m.entries = [{ term: 1, index: 1, type: EntryType.Normal, data: new Uint8Array(0) }];
    const withEntry = encodeBatch([m]);
    withEntry[withEntry.length - 2] = 9;
    assert.throws(() => decodeBatch(withEntry), { code: ErrorCode.BAD_FRAME });
  });

  it('refuse a count that the input cannot hold before allocating', () => {
    assert.throws(() => decodeBatch(bytes('01ffffff07')), { code: ErrorCode.BAD_FRAME });
  });
});

describe('control payloads', () => {
  it('round-trip a forwarded request and both kinds of answer', () => {
    const q = { id: 9, op: ControlOp.AddLearner, node: 'h4', url: 'wss://h4.internal:7443/raft', timeoutMs: 5000 };
    assert.deepEqual(decodeControlRequest(encodeControlRequest(q)), q);
    const ok = { id: 9, ok: true, errorCode: '', message: '' };
    assert.deepEqual(decodeControlResponse(encodeControlResponse(ok)), ok);
    const no = { id: 10, ok: false, errorCode: ErrorCode.NOT_LEADER, message: 'Node h2 is not the leader' };
    assert.deepEqual(decodeControlResponse(encodeControlResponse(no)), no);
  });

  it('refuse an unknown op and trailing bytes', () => {
    const enc = encodeControlRequest({ id: 1, op: ControlOp.RemoveMember, node: 'h2', url: '', timeoutMs: 1 });
    const bad = enc.slice();
    bad[1] = 9;
    assert.throws(() => decodeControlRequest(bad), { code: ErrorCode.BAD_FRAME });
    assert.throws(() => decodeControlRequest(new Uint8Array([...enc, 1])), { code: ErrorCode.BAD_FRAME });
  });
});

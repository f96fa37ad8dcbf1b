import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeEntry,
  decodeSnapshotData,
  encodeCommandEntry,
  encodeMemberEntry,
  encodeSnapshotData,
  sameTag,
} from '../../../../handler/raft/driver/envelope.ts';
import { WaitList } from '../../../../handler/raft/driver/wait-list.ts';
import { resolveNodeOptions } from '../../../../handler/raft/driver/options.ts';
import { KvMachine, KvOp, encodeKvCommand } from '../../../../handler/raft/kv-demo/index.ts';
import { ErrorCode } from '../../../../shared/errors.ts';
import { CLUSTER_KEY } from './helpers.ts';

const tag = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);

describe('driver entry envelope', () => {
  it('encodes a command entry as kind, tag, seq and the command bytes', () => {
    const data = encodeCommandEntry(tag, 300, new Uint8Array([9, 9]));
    assert.equal(Buffer.from(data).toString('hex'), '01' + '0102030405060708' + 'ac02' + '0909');
    const d = decodeEntry(data);
    assert.equal(d.kind, 'command');
    assert.ok(d.kind === 'command' && sameTag(d.tag, tag) && d.seq === 300);
    assert.deepEqual(d.kind === 'command' && [...d.command], [9, 9]);
  });

  it('round-trips a member entry and reads empty data as a no-op', () => {
    const d = decodeEntry(encodeMemberEntry(tag, 1, 'h4', 'wss://h4.internal:7443/raft'));
    assert.deepEqual(d.kind === 'member' && [d.id, d.url], ['h4', 'wss://h4.internal:7443/raft']);
    assert.equal(decodeEntry(new Uint8Array(0)).kind, 'noop');
  });

  it('reports foreign or cut entries as invalid instead of throwing', () => {
    assert.equal(decodeEntry(new Uint8Array([7, 1, 2])).kind, 'invalid');
    assert.equal(decodeEntry(encodeCommandEntry(tag, 1, new Uint8Array(0)).subarray(0, 5)).kind, 'invalid');
    assert.equal(decodeEntry(new Uint8Array([9, 1, 2, 3, 4, 5, 6, 7, 8, 1])).kind, 'invalid');
  });

  it('keeps member URLs and the machine snapshot apart in snapshot data', () => {
    const members = new Map([
      ['h5', 'ws://b/raft'],
      ['h4', 'ws://a/raft'],
    ]);
    const back = decodeSnapshotData(encodeSnapshotData(members, new Uint8Array([1, 2, 3])));
    assert.deepEqual([...back.members], [
      ['h4', 'ws://a/raft'],
      ['h5', 'ws://b/raft'],
    ]);
    assert.deepEqual([...back.machine], [1, 2, 3]);
    assert.throws(() => decodeSnapshotData(new Uint8Array([2])), { code: ErrorCode.BAD_SNAPSHOT });
  });
});

describe('wait list', () => {
  it('resolves by key and expires by deadline with TIMEOUT', async () => {
    const w = new WaitList<number, string>('Test op');
    const a = w.add(1, 100);
    const b = w.add(2, 200);
    assert.equal(w.resolve(1, 'one'), true);
    assert.equal(await a, 'one');
    assert.equal(w.expire(150), 0);
    assert.equal(w.expire(200), 1);
    await assert.rejects(b, { code: ErrorCode.TIMEOUT });
    assert.equal(w.size, 0);
  });

  it('rejects every waiter sharing an aborted signal with ABORTED, one listener for all', async () => {
    const w = new WaitList<number, void>('Test op');
    const ac = new AbortController();
    const ps = Array.from({ length: 50 }, (_, i) => w.add(i, Infinity, ac.signal));
    ac.abort();
    for (const p of ps) await assert.rejects(p, { code: ErrorCode.ABORTED });
    assert.equal(w.size, 0);
  });

  it('maps an AbortSignal.timeout deadline to TIMEOUT', async () => {
    const w = new WaitList<number, void>('Test op');
    // AbortSignal.timeout's timer does not keep Node's event loop alive; this one does.
    const keepAlive = setTimeout(() => {}, 5000);
    await assert.rejects(w.add(1, Infinity, AbortSignal.timeout(10)), { code: ErrorCode.TIMEOUT });
    clearTimeout(keepAlive);
  });
});

describe('node options', () => {
  const base = { id: 'h1', dataDir: '/tmp/x', stateMachine: new KvMachine(), staticKey: CLUSTER_KEY };

  it('require the node among its peers unless it joins', () => {
    assert.throws(() => resolveNodeOptions({ ...base, peers: [{ id: 'h2', url: 'ws://a/raft' }] }), { code: ErrorCode.BAD_CONFIG });
    assert.doesNotThrow(() => resolveNodeOptions({ ...base, join: true, peers: [{ id: 'h2', url: 'ws://a/raft' }] }));
  });

  it('refuse bad ids, urls, repeated peers and heartbeat >= election', () => {
    assert.throws(() => resolveNodeOptions({ ...base, id: '' }), { code: ErrorCode.BAD_CONFIG });
    assert.throws(() => resolveNodeOptions({ ...base, peers: [{ id: 'h1', url: 'http://a' }] }), { code: ErrorCode.BAD_CONFIG });
    const p = { id: 'h1', url: 'ws://a/raft' };
    assert.throws(() => resolveNodeOptions({ ...base, peers: [p, p] }), { code: ErrorCode.BAD_CONFIG });
    assert.throws(() => resolveNodeOptions({ ...base, electionTicks: 3, heartbeatTicks: 3 }), { code: ErrorCode.BAD_CONFIG });
  });
});

describe('kv demo machine', () => {
  it('applies put, append and delete and restores from its snapshot', () => {
    const m = new KvMachine();
    const enc = (op: KvOp, k: string, v = ''): Uint8Array => encodeKvCommand(op, k, new TextEncoder().encode(v));
    assert.deepEqual(m.apply(1, enc(KvOp.Put, 'a', 'x')), { index: 1, ok: true, size: 1 });
    assert.deepEqual(m.apply(2, enc(KvOp.Append, 'a', 'yz')), { index: 2, ok: true, size: 3 });
    m.apply(3, enc(KvOp.Put, 'b', 'q'));
    m.apply(4, enc(KvOp.Delete, 'b'));
    assert.equal(m.apply(5, new Uint8Array([1])).ok, false);
    const copy = new KvMachine();
    copy.restore(m.snapshot());
    assert.deepEqual(copy.keys(), ['a']);
    assert.equal(new TextDecoder().decode(copy.get('a')), 'xyz');
    assert.throws(() => copy.restore(new Uint8Array([0, 0, 0, 1])), { code: ErrorCode.BAD_SNAPSHOT });
  });
});

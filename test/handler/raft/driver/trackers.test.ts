import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Proposals } from '../../../../handler/raft/driver/proposals.ts';
import { ReadTracker } from '../../../../handler/raft/driver/read-tracker.ts';
import { encodeCommandEntry, encodeMemberEntry } from '../../../../handler/raft/driver/envelope.ts';
import { newMessage } from '../../../../handler/raft/core/messages.ts';
import type { Entry } from '../../../../handler/raft/types.ts';
import { EntryType, MessageType } from '../../../../handler/raft/types.ts';
import { codedError, ErrorCode } from '../../../../shared/errors.ts';

const tag = new Uint8Array([9, 8, 7, 6, 5, 4, 3, 2]);
const other = new Uint8Array([1, 1, 1, 1, 1, 1, 1, 1]);

/** A fake core: records what was proposed; throws NOT_LEADER while `leader` is ''. */
function host() {
  const h = {
    leader: 'h1',
    reachable: new Set<string>(['h1', 'h2']),
    proposed: [] as Uint8Array[],
  };
  const api = {
    propose: (data: Uint8Array) => {
      if (h.leader === '') throw codedError(Error, ErrorCode.NOT_LEADER, 'no leader');
      h.proposed.push(data);
    },
    leader: () => h.leader,
    reachable: (id: string) => h.reachable.has(id),
    schedule: () => {},
  };
  return { h, api };
}

const entry = (index: number, data: Uint8Array, term = 2): Entry => ({ term, index, type: EntryType.Normal, data });

describe('proposal tracker', () => {
  it('recognises its own entries by tag and reads their sequence numbers', () => {
    const { api } = host();
    const p = new Proposals(api, tag);
    assert.equal(p.seqOf(entry(1, encodeCommandEntry(tag, 300, new Uint8Array([1])))), 300);
    assert.equal(p.seqOf(entry(1, encodeMemberEntry(tag, 7, 'h4', 'ws://x/raft'))), 7);
    assert.equal(p.seqOf(entry(1, encodeCommandEntry(other, 300, new Uint8Array([1])))), undefined);
    assert.equal(p.seqOf(entry(1, new Uint8Array(0))), undefined);
  });

  it('parks a proposal without a leader and submits it once one is known', async () => {
    const { h, api } = host();
    h.leader = '';
    const p = new Proposals(api, tag);
    const data = encodeCommandEntry(tag, 1, new Uint8Array([1]));
    const done = p.add(1, data, Infinity, undefined);
    assert.equal(p.parked, 1);
    assert.equal(h.proposed.length, 0);
    h.leader = 'h2';
    p.unpark();
    assert.equal(h.proposed.length, 1);
    p.resolve(1, 'result');
    assert.equal(await done, 'result');
  });

  it('re-proposes a forwarded proposal the transport dropped unsent, once the leader is reachable or another leads', () => {
    const { h, api } = host();
    const p = new Proposals(api, tag);
    const data = encodeCommandEntry(tag, 5, new Uint8Array([1]));
    void p.add(5, data, Infinity, undefined).catch(() => {});
    assert.equal(h.proposed.length, 1);
    const m = newMessage(MessageType.Propose, 'h3', 'h1', 0);
    m.entries = [entry(0, data, 0)];
    h.reachable.delete('h1');
    p.onDropped([m]);
    p.unpark();
    assert.equal(h.proposed.length, 1, 'not again to the unreachable leader');
    h.leader = 'h2';
    p.unpark();
    assert.equal(h.proposed.length, 2, 'proposed again once h2 leads');
    assert.ok(p.resubmitted === 0 && p.parked === 0);
  });

  it('re-proposes an entry a new leader overwrote in our log, and only then', () => {
    const { h, api } = host();
    const p = new Proposals(api, tag);
    const mine = encodeCommandEntry(tag, 1, new Uint8Array([1]));
    void p.add(1, mine, Infinity, undefined).catch(() => {});
    p.onAppend([entry(10, mine)]);
    p.onAppend([entry(11, encodeCommandEntry(other, 1, new Uint8Array([2])))]);
    assert.equal(h.proposed.length, 1, 'appending after ours changes nothing');
    p.onAppend([entry(10, encodeCommandEntry(other, 2, new Uint8Array([3])), 3)]);
    assert.equal(h.proposed.length, 2);
    assert.equal(p.resubmitted, 1);
  });

  it('re-proposes when a different entry is applied where ours was, and resolves when ours is', async () => {
    const { h, api } = host();
    const p = new Proposals(api, tag);
    const a = encodeCommandEntry(tag, 1, new Uint8Array([1]));
    const b = encodeCommandEntry(tag, 2, new Uint8Array([2]));
    const pa = p.add(1, a, Infinity, undefined);
    void p.add(2, b, Infinity, undefined).catch(() => {});
    p.onAppend([entry(4, a), entry(5, b)]);
    p.onApply(4, 1);
    p.resolve(1, 'a');
    assert.equal(await pa, 'a');
    p.onApply(5, undefined);
    assert.equal(h.proposed.length, 3, 'b was proposed again');
  });

  it('fails proposals a snapshot covered with TIMEOUT: their outcome is unknown', async () => {
    const { api } = host();
    const p = new Proposals(api, tag);
    const a = encodeCommandEntry(tag, 1, new Uint8Array([1]));
    const pa = p.add(1, a, Infinity, undefined);
    p.onAppend([entry(4, a)]);
    p.onSnapshot(10);
    await assert.rejects(pa, { code: ErrorCode.TIMEOUT });
  });

  it('expires proposals at their deadline with TIMEOUT', async () => {
    const { api } = host();
    const p = new Proposals(api, tag);
    const pa = p.add(1, encodeCommandEntry(tag, 1, new Uint8Array(0)), 1000, undefined);
    p.onTick(999);
    p.onTick(1000);
    await assert.rejects(pa, { code: ErrorCode.TIMEOUT });
    assert.equal(p.size, 0);
  });
});

describe('read tracker', () => {
  function tracker() {
    const issued: Uint8Array[] = [];
    let leader = true;
    let n = 0;
    const t = new ReadTracker(
      {
        readIndex: (ctx) => {
          if (!leader) throw codedError(Error, ErrorCode.NOT_LEADER, 'no leader');
          issued.push(ctx);
        },
        nextContext: () => new Uint8Array([++n]),
      },
      3,
    );
    return { t, issued, setLeader: (v: boolean) => (leader = v) };
  }

  it('serves every reader that arrived together with one request', async () => {
    const { t, issued } = tracker();
    const reads = Array.from({ length: 100 }, () => t.add(Infinity));
    t.issue(0);
    assert.equal(issued.length, 1);
    t.onReadState({ index: 7, context: issued[0]! }, 5);
    let settled = 0;
    for (const r of reads) void r.then(() => settled++);
    await Promise.resolve();
    assert.equal(settled, 0, 'not before index 7 is applied');
    t.onApplied(7);
    await Promise.all(reads);
    assert.equal(t.pending, 0);
  });

  it('keeps readers while no leader is known and re-issues a request whose answer is lost', async () => {
    const { t, issued, setLeader } = tracker();
    setLeader(false);
    const r = t.add(Infinity);
    t.issue(0);
    assert.equal(issued.length, 0);
    setLeader(true);
    t.issue(1);
    assert.equal(issued.length, 1);
    t.onTick(4, 0);
    assert.ok(t.hasUnissued, 'the unanswered request is queued again after retryTicks');
    t.issue(4);
    assert.equal(issued.length, 2);
    t.onReadState({ index: 1, context: issued[0]! }, 9);
    t.onReadState({ index: 1, context: issued[1]! }, 9);
    await r;
  });

  it('times readers out with TIMEOUT and aborts them with ABORTED', async () => {
    const { t } = tracker();
    const late = t.add(100);
    const ac = new AbortController();
    const aborted = t.add(Infinity, ac.signal);
    ac.abort();
    await assert.rejects(aborted, { code: ErrorCode.ABORTED });
    t.onTick(1, 100);
    await assert.rejects(late, { code: ErrorCode.TIMEOUT });
  });
});

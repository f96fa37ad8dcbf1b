import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { RaftTransport } from '../../../../handler/raft/transport/transport.ts';
import { PayloadKind } from '../../../../handler/raft/transport/frames.ts';
import { newMessage } from '../../../../handler/raft/core/messages.ts';
import type { Message, NodeId } from '../../../../handler/raft/types.ts';
import { EntryType, MessageType } from '../../../../handler/raft/types.ts';
import { generateKeyPair } from '../../../../shared/crypto/keys.ts';
import { StaticKey } from '../../../../shared/crypto/static-key.ts';

const clusterKey = StaticKey.fromPrivate(generateKeyPair().privateKey);

/** A transport with an inbox; `urls` is shared so peers can find each other. */
function node(id: NodeId, urls: Map<NodeId, string>, key = clusterKey) {
  const inbox: Message[] = [];
  const payloads: Array<{ kind: number; from: NodeId; body: Uint8Array }> = [];
  const waiters: Array<() => void> = [];
  const t = new RaftTransport({
    nodeId: id,
    staticKey: key,
    resolve: (p) => urls.get(p),
    onMessages: (ms) => {
      inbox.push(...ms);
      for (const w of waiters.splice(0)) w();
    },
    onPayload: (kind, body, from) => {
      payloads.push({ kind, from, body });
      for (const w of waiters.splice(0)) w();
    },
    limits: { backoffMinMs: 20, backoffMaxMs: 100, absorbMs: 200, handshakeTimeoutMs: 2000 },
  });
  /** Resolves once `pred` holds, re-checked on every delivery; rejects after `ms`. */
  const until = async (pred: () => boolean, ms = 5000): Promise<void> => {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`${id}: condition not met within ${ms} ms (inbox ${inbox.length})`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 50);
      });
    }
  };
  return { t, inbox, payloads, until };
}

async function listen(n: ReturnType<typeof node>, urls: Map<NodeId, string>, port = 0): Promise<number> {
  const a = await n.t.listen({ hostname: '127.0.0.1', port, path: '/raft' });
  urls.set(n.t.nodeId, `ws://127.0.0.1:${a.port}/raft`);
  return a.port;
}

function heartbeat(from: NodeId, to: NodeId, commit: number): Message {
  const m = newMessage(MessageType.Heartbeat, from, to, 1);
  m.commit = commit;
  return m;
}

describe('raft transport over real WebSockets', () => {
  const open: RaftTransport[] = [];
  after(async () => {
    for (const t of open) await t.close();
  });

  it('delivers messages both ways, in order, batched', async () => {
    const urls = new Map<NodeId, string>();
    const a = node('a', urls);
    const b = node('b', urls);
    open.push(a.t, b.t);
    await listen(a, urls);
    await listen(b, urls);
    const out: Message[] = [];
    for (let i = 1; i <= 200; i++) out.push(heartbeat('a', 'b', i));
    a.t.send(out);
    b.t.send([heartbeat('b', 'a', 42)]);
    await b.until(() => b.inbox.length === 200);
    await a.until(() => a.inbox.length === 1);
    assert.deepEqual(b.inbox.map((m) => m.commit), out.map((m) => m.commit));
    assert.equal(a.inbox[0]!.commit, 42);
    assert.ok(a.t.stats().batchesSent < 200, 'messages sent in one turn share batches');
  });

  it('carries an AppendEntries of 2 MiB across many fragments intact', async () => {
    const urls = new Map<NodeId, string>();
    const a = node('a', urls);
    const b = node('b', urls);
    open.push(a.t, b.t);
    await listen(b, urls);
    const m = newMessage(MessageType.Append, 'a', 'b', 3);
    m.entries = [];
    for (let i = 0; i < 8; i++) {
      const data = new Uint8Array(256 * 1024);
      for (let j = 0; j < data.length; j += 4096) data[j] = (i + j) & 0xff;
      m.entries.push({ term: 3, index: i + 1, type: EntryType.Normal, data });
    }
    a.t.send([m]);
    await b.until(() => b.inbox.length === 1);
    assert.deepEqual(b.inbox[0], m);
  });

  it('delivers control payloads to the named peer', async () => {
    const urls = new Map<NodeId, string>();
    const a = node('a', urls);
    const b = node('b', urls);
    open.push(a.t, b.t);
    await listen(b, urls);
    a.t.sendPayload('b', PayloadKind.ControlRequest, new Uint8Array([1, 2, 3]));
    await b.until(() => b.payloads.length === 1);
    assert.deepEqual(b.payloads[0], { kind: PayloadKind.ControlRequest, from: 'a', body: new Uint8Array([1, 2, 3]) });
  });

  it('refuses a peer holding another cluster key and delivers nothing', async () => {
    const urls = new Map<NodeId, string>();
    const b = node('b', urls);
    const intruder = node('a', urls, StaticKey.fromPrivate(generateKeyPair().privateKey));
    open.push(b.t, intruder.t);
    await listen(b, urls);
    intruder.t.send([heartbeat('a', 'b', 1)]);
    const end = Date.now() + 5000;
    while (b.t.stats().handshakesRefused === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    assert.ok(b.t.stats().handshakesRefused >= 1);
    assert.equal(b.inbox.length, 0);
    assert.equal(b.t.stats().inboundAccepted, 0);
    assert.equal(intruder.t.stats().linksOpen, 0);
  });

  it('drops messages that name another sender than the authenticated peer', async () => {
    const urls = new Map<NodeId, string>();
    const a = node('a', urls);
    const b = node('b', urls);
    open.push(a.t, b.t);
    await listen(b, urls);
    a.t.send([heartbeat('mallory', 'b', 1), heartbeat('a', 'b', 2)]);
    await b.until(() => b.inbox.length === 1);
    assert.equal(b.inbox[0]!.commit, 2);
    assert.equal(b.t.stats().misaddressed, 1);
  });

  it('reconnects by itself after the peer restarts on the same address', async () => {
    const urls = new Map<NodeId, string>();
    const a = node('a', urls);
    const b1 = node('b', urls);
    open.push(a.t);
    const port = await listen(b1, urls);
    a.t.send([heartbeat('a', 'b', 1)]);
    await b1.until(() => b1.inbox.length === 1);
    await b1.t.close();
    // While b is down, sends fail quietly and the link backs off.
    for (let i = 0; i < 5; i++) {
      a.t.send([heartbeat('a', 'b', 100 + i)]);
      await new Promise((r) => setTimeout(r, 30));
    }
    const b2 = node('b', urls);
    open.push(b2.t);
    await listen(b2, urls, port);
    // Raft resends on its own; here the test keeps sending until one arrives.
    for (let i = 0; i < 200 && b2.inbox.length === 0; i++) {
      a.t.send([heartbeat('a', 'b', 1000 + i)]);
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.ok(b2.inbox.length > 0, 'the restarted peer hears from a again');
    assert.ok(a.t.stats().dials >= 2);
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../../shared/errors.ts';
import { CloseCode } from '../../../shared/protocol/codes.ts';
import { ManualTimers } from '../../../shared/mux/timers.ts';
import { makePair, readAll, settle, TCP_REQUEST } from './pair.ts';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('MuxSession GOAWAY', () => {
  it('stops new streams and lets existing ones finish', async () => {
    const goaways: Array<[number, number]> = [];
    const p = makePair({ onGoAway: (code, last) => goaways.push([code, last]) });
    const s = await p.opener.connect(TCP_REQUEST);
    const r = await p.nextAccepted();
    p.acceptor.goAway();
    await settle();
    assert.deepEqual(goaways, [[CloseCode.NO_ERROR, 1]]);
    assert.equal(p.opener.goingAway, true);
    assert.throws(() => p.opener.open(TCP_REQUEST), { code: ErrorCode.GOING_AWAY });
    // The old stream still works both ways.
    await s.write(text('still here'));
    s.end();
    assert.equal(new TextDecoder().decode(await readAll(r)), 'still here');
    await r.write(text('bye'));
    r.end();
    assert.equal(new TextDecoder().decode(await readAll(s)), 'bye');
    await p.acceptor.whenIdle();
    assert.equal(p.acceptor.streamCount, 0);
    await p.close();
  });

  it('an OPEN that crossed the GOAWAY is refused with REFUSED so it can be retried elsewhere', async () => {
    let offered = 0;
    const p = makePair({}, { onOpen: (stream) => (offered++, stream.accept()) });
    p.acceptor.goAway();
    const s = p.opener.open(TCP_REQUEST);
    await assert.rejects(s.opened, { code: ErrorCode.REFUSED });
    await settle();
    assert.equal(offered, 0, 'the acceptor never saw the stream');
    await p.close();
  });

  it('drain() closes the session once its last stream finishes', async () => {
    const p = makePair();
    const s = await p.opener.connect(TCP_REQUEST);
    const r = await p.nextAccepted();
    const drained = p.acceptor.drain(60_000);
    await settle();
    assert.equal(p.acceptor.isClosed, false);
    s.end();
    r.end();
    await drained;
    assert.equal(p.acceptor.isClosed, true);
    assert.equal(await p.acceptor.closed, undefined);
    // The opener saw GOAWAY(NO_ERROR) with nothing open: a clean close.
    assert.equal(await p.opener.closed, undefined);
  });

  it('drain() gives up after its deadline and closes with the streams still open', async () => {
    const p = makePair();
    const s = await p.opener.connect(TCP_REQUEST);
    await p.nextAccepted();
    await p.acceptor.drain(20);
    assert.equal(p.acceptor.isClosed, true);
    await assert.rejects(s.read(), { code: ErrorCode.CLOSED });
  });

  it('the opener sends GOAWAY with last stream id 0', async () => {
    const seen: Array<[number, number]> = [];
    const p = makePair({}, { onGoAway: (code, last) => seen.push([code, last]) });
    await p.opener.connect(TCP_REQUEST);
    p.opener.goAway();
    await settle();
    assert.deepEqual(seen, [[CloseCode.NO_ERROR, 0]]);
    await p.close();
  });
});

describe('MuxSession keepalive', () => {
  it('closes with TIMEOUT when nothing arrives within the timeout after a PING', async () => {
    const timers = new ManualTimers();
    const p = makePair({ timers, keepaliveIntervalMs: 1000, keepaliveTimeoutMs: 500 }, {});
    // The acceptor's messages no longer reach the opener: a dead peer.
    p.acceptorTransport.pause();
    timers.advance(1000);
    await settle();
    assert.equal(p.opener.isClosed, false);
    timers.advance(499);
    assert.equal(p.opener.isClosed, false);
    timers.advance(1);
    const err = await p.opener.closed;
    assert.equal((err as { code?: string }).code, ErrorCode.TIMEOUT);
    assert.equal((err as { closeCode?: number }).closeCode, CloseCode.IDLE_TIMEOUT);
    p.acceptor.close();
  });

  it('stays up while PONGs come back, and measures RTT', async () => {
    const timers = new ManualTimers();
    const p = makePair({ timers, keepaliveIntervalMs: 1000, keepaliveTimeoutMs: 500 }, {});
    // Five virtual seconds in 100 ms steps; each PONG arrives within the step its PING left in.
    for (let i = 0; i < 50; i++) {
      timers.advance(100);
      await settle(2);
      assert.equal(p.opener.isClosed, false, `at ${timers.now()} ms`);
    }
    assert.equal(p.opener.rttMs, 0);
    await p.close();
    assert.equal(timers.size, 0, 'no timer left behind');
  });

  it('any inbound traffic counts as life even when the PONG is late', async () => {
    const timers = new ManualTimers();
    const p = makePair({ timers, keepaliveIntervalMs: 1000, keepaliveTimeoutMs: 500 }, {});
    const s = await p.opener.connect(TCP_REQUEST);
    const r = await p.nextAccepted();
    timers.advance(1000); // PING goes out
    await settle();
    timers.advance(400);
    await r.write(text('data'));
    await settle();
    timers.advance(400);
    assert.equal(p.opener.isClosed, false);
    assert.equal(new TextDecoder().decode((await s.read())!), 'data');
    await p.close();
  });

  it('ping() resolves with the RTT and rejects with TIMEOUT when no PONG comes', async () => {
    const p = makePair();
    const rtt = await p.opener.ping(5000);
    assert.ok(rtt >= 0);
    const timers = new ManualTimers();
    const q = makePair({ timers }, {});
    q.acceptorTransport.pause();
    const pending = q.opener.ping(100);
    timers.advance(100);
    await assert.rejects(pending, { code: ErrorCode.TIMEOUT });
    await p.close();
    q.opener.close();
    q.acceptor.close();
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers';
import { ErrorCode } from '../../../shared/errors.ts';
import { MIN_TUNED_RTT_MS, ReceiveWindow, WindowBudget, type WindowTuning } from '../../../shared/mux/flow-window.ts';
import { MuxSession } from '../../../shared/mux/session.ts';
import type { MuxSessionOptions } from '../../../shared/mux/options.ts';
import type { MuxStream } from '../../../shared/mux/stream.ts';
import { Keepalive, RTT_MAX_AGE_MS } from '../../../shared/mux/keepalive.ts';
import { ManualTimers } from '../../../shared/mux/timers.ts';
import type { MessageTransport } from '../../../shared/mux/transport.ts';
import { concatBytes, pseudoRandomBytes, TCP_REQUEST } from './pair.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** A tuning with a clock and RTT the test sets by hand. */
function manualTuning(maxSize: number, budget = new WindowBudget(1 << 30)): WindowTuning & { budget: WindowBudget; time: number; rtt: number | null } {
  return {
    maxSize,
    budget,
    time: 0,
    rtt: 50,
    now() {
      return this.time;
    },
    rttMs() {
      return this.rtt;
    },
  };
}

/** Receives and consumes `n` bytes; returns the credit the window gives back. */
function take(w: ReceiveWindow, n: number): number {
  assert.equal(w.receive(n), true, `the window refused ${n} bytes it had granted`);
  return w.consume(n);
}

describe('ReceiveWindow auto-tuning', () => {
  it('doubles when the consumer takes more than half the window within a few round trips, and announces the growth', () => {
    const t = manualTuning(1 * MiB);
    const w = new ReceiveWindow(64 * KiB, t);
    assert.equal(take(w, 16 * KiB), 16 * KiB, 'the first credit only starts the measuring epoch');
    t.time += 10;
    assert.equal(take(w, 16 * KiB), 16 * KiB);
    t.time += 10;
    assert.equal(take(w, 16 * KiB), 16 * KiB, 'half the window in the epoch is not yet "more than half"');
    t.time += 10;
    // 48 KiB in 30 ms with a 50 ms RTT: far faster than 64 KiB per 4 RTTs.
    assert.equal(take(w, 16 * KiB), 16 * KiB + 64 * KiB);
    assert.equal(w.size, 128 * KiB);
    assert.equal(w.available, 128 * KiB, 'the peer may now send the whole grown window');
    assert.equal(t.budget.used, 64 * KiB);
    // Credit batches follow the new size: a quarter of 128 KiB.
    assert.equal(take(w, 16 * KiB), 0);
    assert.equal(take(w, 16 * KiB), 32 * KiB);
  });

  it('stays put when the consumer is slower than the window allows (the app, not the window, limits)', () => {
    const t = manualTuning(1 * MiB);
    const w = new ReceiveWindow(64 * KiB, t);
    for (let i = 0; i < 12; i++) {
      take(w, 16 * KiB);
      // 16 KiB per 60 ms at a 50 ms RTT is under 64 KiB per 4 RTTs.
      t.time += 60;
    }
    assert.equal(w.size, 64 * KiB);
    assert.equal(t.budget.used, 0);
  });

  it('does not grow on a path shorter than MIN_TUNED_RTT_MS, however fast the consumer', () => {
    const t = manualTuning(1 * MiB);
    t.rtt = MIN_TUNED_RTT_MS - 0.5;
    const w = new ReceiveWindow(64 * KiB, t);
    for (let i = 0; i < 12; i++) take(w, 16 * KiB);
    assert.equal(w.size, 64 * KiB);
    t.rtt = MIN_TUNED_RTT_MS;
    for (let i = 0; i < 12; i++) take(w, 16 * KiB);
    assert.ok(w.size > 64 * KiB, 'at the floor it grows');
  });

  it('does not grow before an RTT is known', () => {
    const t = manualTuning(1 * MiB);
    t.rtt = null;
    const w = new ReceiveWindow(64 * KiB, t);
    for (let i = 0; i < 12; i++) take(w, 16 * KiB);
    assert.equal(w.size, 64 * KiB);
  });

  it('never passes its maximum, and a spent budget stops growth until release() gives it back', () => {
    const budget = new WindowBudget(96 * KiB);
    const t = manualTuning(256 * KiB, budget);
    const a = new ReceiveWindow(64 * KiB, t);
    const b = new ReceiveWindow(64 * KiB, t);
    for (let i = 0; i < 64; i++) {
      take(a, 16 * KiB);
      take(b, 16 * KiB);
      t.time += 1;
    }
    assert.ok(a.size <= 256 * KiB && b.size <= 256 * KiB);
    assert.equal(a.size - 64 * KiB + (b.size - 64 * KiB), 96 * KiB, 'growth adds up to the budget exactly');
    assert.equal(budget.used, 96 * KiB);
    a.release();
    assert.equal(budget.used, b.size - 64 * KiB);
    for (let i = 0; i < 64; i++) {
      take(b, 16 * KiB);
      t.time += 1;
    }
    assert.equal(b.size, 64 * KiB + 96 * KiB, 'the released budget went to the other window, all of it');
    b.release();
    assert.equal(budget.used, 0);
  });

  it('after release() the window returns credit but never grows again, so the budget cannot leak', () => {
    const t = manualTuning(1 * MiB);
    const w = new ReceiveWindow(64 * KiB, t);
    take(w, 16 * KiB);
    t.time += 1;
    take(w, 16 * KiB);
    take(w, 16 * KiB);
    take(w, 16 * KiB);
    assert.equal(w.size, 128 * KiB);
    w.release();
    assert.equal(t.budget.used, 0);
    // A reader still draining what arrived before the stream closed returns credit as usual.
    for (let i = 0; i < 16; i++) {
      take(w, 16 * KiB);
      t.time += 1;
    }
    assert.equal(w.size, 128 * KiB);
    assert.equal(w.ensureAtLeast(1 * MiB), 0);
    assert.equal(t.budget.used, 0);
  });

  it('discarded bytes return credit but never grow the window (a peer resetting its streams is not a fast reader)', () => {
    const t = manualTuning(1 * MiB);
    const w = new ReceiveWindow(64 * KiB, t);
    for (let i = 0; i < 32; i++) {
      assert.equal(w.receive(16 * KiB), true);
      w.discard(16 * KiB);
      t.time += 1;
    }
    assert.equal(w.size, 64 * KiB);
    assert.equal(w.available, 64 * KiB, 'every discarded byte went back');
    assert.equal(t.budget.used, 0);
  });

  it('a window released while its RTT is read (the session closed under it) takes no budget', () => {
    const t = manualTuning(1 * MiB);
    const w = new ReceiveWindow(64 * KiB, t);
    take(w, 16 * KiB);
    t.time += 1;
    t.rttMs = () => {
      w.release();
      return 50;
    };
    for (let i = 0; i < 3; i++) take(w, 16 * KiB);
    assert.equal(w.size, 64 * KiB);
    assert.equal(t.budget.used, 0);
  });

  it('a stream window (no budget) grows to its maximum without charging anything', () => {
    const t = { ...manualTuning(256 * KiB), budget: null };
    const w = new ReceiveWindow(64 * KiB, t);
    for (let i = 0; i < 64; i++) {
      take(w, 16 * KiB);
      t.time += 1;
    }
    assert.equal(w.size, 256 * KiB);
  });

  it('ensureAtLeast() grows to a target within the maximum and the budget; without tuning it does nothing', () => {
    const t = manualTuning(1 * MiB, new WindowBudget(512 * KiB));
    const w = new ReceiveWindow(256 * KiB, t);
    assert.equal(w.ensureAtLeast(128 * KiB), 0);
    assert.equal(w.ensureAtLeast(384 * KiB), 128 * KiB);
    assert.equal(w.ensureAtLeast(4 * MiB), 384 * KiB, 'capped by the budget (512 KiB of growth)');
    assert.equal(w.size, 768 * KiB);
    assert.equal(new ReceiveWindow(256 * KiB).ensureAtLeast(1 * MiB), 0);
  });

  it('WindowBudget refuses a negative or fractional limit with BAD_CONFIG', () => {
    assert.throws(() => new WindowBudget(-1), { code: ErrorCode.BAD_CONFIG });
    assert.throws(() => new WindowBudget(1.5), { code: ErrorCode.BAD_CONFIG });
  });
});

/**
 * A transport pair with a fixed one-way delay on the manual clock and unlimited bandwidth: only
 * the flow-control windows limit a transfer over it, as on a long uncongested path.
 */
function delayLine(timers: ManualTimers, oneWayMs: number): [MessageTransport, MessageTransport] {
  const make = () => {
    const end = {
      peer: null as unknown as { onMessageHandler: (m: Uint8Array) => void },
      onMessageHandler: (_m: Uint8Array): void => {},
      closeHandler: (_code: number, _reason: string): void => {},
      transport: {
        bufferedAmount: 0,
        send(message: Uint8Array): boolean {
          const copy = message.slice();
          timers.setTimeout(() => end.peer.onMessageHandler(copy), oneWayMs);
          return true;
        },
        onMessage(handler: (m: Uint8Array) => void): void {
          end.onMessageHandler = handler;
        },
        onDrain(): void {},
        onClose(handler: (code: number, reason: string) => void): void {
          end.closeHandler = handler;
        },
        close(): void {
          end.closeHandler(1000, '');
          end.peer.onMessageHandler = () => {};
        },
      } satisfies MessageTransport,
    };
    return end;
  };
  const a = make();
  const b = make();
  a.peer = b;
  b.peer = a;
  return [a.transport, b.transport];
}

interface Transfer {
  /** Simulated ms until the receiver had every byte. */
  ms: number;
  receiver: MuxStream;
  acceptor: MuxSession;
  got: Uint8Array;
  /** With `rounds` > 1: the same for each stream, in order (the fields above are the first's). */
  each: Array<{ ms: number; receiver: MuxStream; startWindow: number; got: Uint8Array }>;
}

/** A reader that stops for `ms` simulated ms once it has `atBytes`; `check` runs at the end of the stall. */
interface Stall {
  atBytes: number;
  ms: number;
  check(receiver: MuxStream): void;
}

/**
 * Sends `data` over a stream across a 50 ms RTT delay line to a reader that takes every chunk
 * at once (but for `stall`), moving the manual clock 1 ms per step (bounded by `maxMs`);
 * `rounds` streams one after another on the same session.
 */
async function transfer(data: Uint8Array, receiverOptions: Partial<MuxSessionOptions>, stall?: Stall, rounds = 1, maxMs = 20_000): Promise<Transfer> {
  const timers = new ManualTimers();
  const [ta, tb] = delayLine(timers, 25);
  const limits = { streamWindow: 64 * KiB, sessionWindow: 256 * KiB };
  const common = { timers, keepaliveIntervalMs: 0 };
  let receiver: MuxStream | null = null;
  let startWindow = 0;
  const opener = new MuxSession(ta, { ...common, role: 'opener', remote: limits });
  const acceptor = new MuxSession(tb, {
    ...common,
    ...receiverOptions,
    role: 'acceptor',
    local: limits,
    onOpen: (stream) => {
      stream.accept();
      startWindow = stream.receiveWindow;
      receiver = stream;
    },
  });
  const each: Transfer['each'] = [];
  for (let round = 0; round < rounds; round++) {
    receiver = null;
    const sender = opener.open(TCP_REQUEST);
    const writing = (async () => {
      for (let o = 0; o < data.length; o += 16 * KiB) await sender.write(data.subarray(o, o + 16 * KiB));
      sender.end();
    })();
    const parts: Uint8Array[] = [];
    let done = false;
    let reading: Promise<void> | null = null;
    let ms = 0;
    for (; ms < maxMs && !done; ms++) {
      timers.advance(1);
      if (reading === null && receiver !== null) {
        const r: MuxStream = receiver;
        reading = (async () => {
          let total = 0;
          for (let chunk = await r.read(); chunk !== null; chunk = await r.read()) {
            parts.push(chunk.slice());
            total += chunk.byteLength;
            if (stall !== undefined && total >= stall.atBytes) {
              const until = timers.now() + stall.ms;
              while (timers.now() < until) await new Promise((resolve) => nextTurn(resolve));
              stall.check(r);
              stall = undefined;
            }
          }
          done = true;
        })();
      }
      await new Promise((resolve) => nextTurn(resolve));
    }
    assert.ok(done, `transfer ${round + 1} did not finish within ${maxMs} simulated ms`);
    await writing;
    each.push({ ms, receiver: receiver as unknown as MuxStream, startWindow, got: concatBytes(parts) });
  }
  const first = each[0]!;
  const result = { ms: first.ms, receiver: first.receiver, acceptor, got: first.got, each };
  opener.close();
  acceptor.close();
  return result;
}

describe('MuxSession window auto-tuning over a 50 ms RTT', () => {
  const data = pseudoRandomBytes(4 * MiB, 11);

  it('a bulk stream grows its window and finishes several times sooner than with the hello window alone', async () => {
    const budget = new WindowBudget(64 * MiB);
    const fixed = await transfer(data, { maxStreamWindow: 64 * KiB, maxSessionWindow: 256 * KiB });
    const tuned = await transfer(data, { maxStreamWindow: 2 * MiB, maxSessionWindow: 4 * MiB, windowBudget: budget });
    assert.equal(sha(fixed.got), sha(data));
    assert.equal(sha(tuned.got), sha(data));
    // 64 KiB per 50 ms RTT bounds the fixed window at 1.3 MB/s: about 3.2 s for 4 MiB.
    assert.ok(fixed.ms >= 3000, `fixed window took ${fixed.ms} ms`);
    assert.ok(tuned.ms * 4 < fixed.ms, `tuned ${tuned.ms} ms against fixed ${fixed.ms} ms`);
    assert.ok(tuned.receiver.receiveWindow > 64 * KiB && tuned.receiver.receiveWindow <= 2 * MiB, `stream window ${tuned.receiver.receiveWindow}`);
    assert.ok(tuned.acceptor.receiveWindow >= Math.min(4 * MiB, 1.5 * tuned.receiver.receiveWindow), 'the session window follows the stream');
    assert.equal(fixed.receiver.receiveWindow, 64 * KiB);
    assert.equal(budget.used, 0, 'closing gave every byte of growth back to the budget');
  });

  it('a new stream on the session starts at the window earlier streams grew to, and so does not ramp again', async () => {
    const tuned = await transfer(data, { maxStreamWindow: 2 * MiB, maxSessionWindow: 4 * MiB, windowBudget: new WindowBudget(64 * MiB) }, undefined, 2);
    const [first, second] = tuned.each;
    assert.equal(sha(first!.got), sha(data));
    assert.equal(sha(second!.got), sha(data));
    assert.equal(first!.startWindow, 64 * KiB, 'the first stream starts at the hello window');
    assert.equal(second!.startWindow, first!.receiver.receiveWindow, 'the second starts where the first ended');
    assert.ok(second!.startWindow > 64 * KiB);
    assert.ok(second!.ms < first!.ms, `second ${second!.ms} ms against first ${first!.ms} ms`);
  });

  it('growth stops at the shared budget: the session window never exceeds hello + budget', async () => {
    const budget = new WindowBudget(192 * KiB);
    const tuned = await transfer(data, { maxStreamWindow: 2 * MiB, maxSessionWindow: 4 * MiB, windowBudget: budget });
    assert.equal(sha(tuned.got), sha(data));
    assert.equal(tuned.acceptor.receiveWindow, 256 * KiB + 192 * KiB, 'the session took the whole budget and no more');
    assert.ok(tuned.receiver.receiveWindow > 64 * KiB, 'the stream window grew too (its bytes are within the session window)');
    assert.equal(budget.used, 0);
  });

  it('a reader that stalls after the window grew holds at most the grown window, and the rest arrives intact', async () => {
    let held = -1;
    let window = -1;
    const tuned = await transfer(data, { maxStreamWindow: 1 * MiB, maxSessionWindow: 4 * MiB, windowBudget: new WindowBudget(64 * MiB) }, {
      atBytes: 2 * MiB,
      ms: 1_000,
      check(receiver) {
        held = receiver.readableLength;
        window = receiver.receiveWindow;
      },
    });
    assert.equal(sha(tuned.got), sha(data));
    assert.ok(window > 64 * KiB && window <= 1 * MiB, `window ${window}`);
    assert.ok(held <= window, `held ${held} of a ${window}-byte window`);
    assert.ok(held > window / 2, `the sender filled the grown window while the reader stalled (held ${held})`);
  });
});

describe('Keepalive.pathRttMs (the RTT auto-tuning uses)', () => {
  it('is the least sample of the session, so queueing behind bulk data does not inflate it', async () => {
    const timers = new ManualTimers();
    const pings: Uint8Array[] = [];
    const k = new Keepalive(timers, 0, 10_000, (opaque) => pings.push(opaque), () => {});
    const turn = (): Promise<void> => Promise.resolve();
    const sample = async (rtt: number): Promise<void> => {
      timers.advance(RTT_MAX_AGE_MS + 1);
      const before = pings.length;
      k.pathRttMs();
      assert.equal(pings.length, before, 'the PING waits until the caller has returned');
      await turn();
      assert.equal(pings.length, before + 1, 'a stale RTT asks for a sample');
      timers.advance(rtt);
      k.pong(pings[pings.length - 1]!);
    };
    assert.equal(k.pathRttMs(), null);
    assert.equal(k.pathRttMs(), null);
    await turn();
    assert.equal(pings.length, 1, 'at most one request per RTT_MAX_AGE_MS');
    timers.advance(50);
    k.pong(pings[0]!);
    assert.equal(k.pathRttMs(), 50);
    await turn();
    assert.equal(pings.length, 1, 'a fresh sample needs no request');
    await sample(400);
    assert.equal(k.pathRttMs(), 50, 'a sample taken behind queued data does not raise it');
    await sample(30);
    assert.equal(k.pathRttMs(), 30, 'a smaller sample lowers it');
    k.stop(new Error('closed'));
    timers.advance(RTT_MAX_AGE_MS + 1);
    k.pathRttMs();
    await turn();
    assert.equal(pings.length, 3, 'a stopped keepalive sends nothing');
  });
});

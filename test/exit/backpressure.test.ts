import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import type { MuxSession } from '../../shared/mux/session.ts';
import { startExit, type RunningExit } from '../../exit/main.ts';
import { dialLink, exitConfig, makeKeys, openTcp, patternBytes, quietLogger, readAll, sha256, tcpServer, until, within } from './harness.ts';
import { createHash } from 'node:crypto';

// What the exit may hold for one stream: the stream window it grants (unread link data),
// the mux send queue's high-water mark plus one socket chunk, and one socket write buffer.
const STREAM_WINDOW = 256 * 1024;
const BOUND = STREAM_WINDOW + 64 * 1024 + 2 * 64 * 1024 + 64 * 1024;
// More than loopback kernel buffers can absorb once the exit stops reading (see docs/exit.md).
const LIMIT = 32 << 20;

describe('exit backpressure: bounded buffering in both directions', () => {
  const keys = makeKeys();
  let exit: RunningExit;
  let link: MuxSession;

  before(async () => {
    exit = await startExit(exitConfig(keys, { egress: { allow: ['127.0.0.1/32'] }, limits: { streamWindow: STREAM_WINDOW } }), {
      logger: quietLogger(),
      drainTimeoutMs: 200,
    });
    link = await dialLink(exit.linkPort!, keys);
  });

  after(async () => {
    link.close();
    await exit.close();
  });

  it('a stalled reader stops the target: the exit holds a bounded number of bytes, then delivers all of them', async () => {
    const chunk = patternBytes(64 * 1024, 7);
    const pushed = { written: 0, blocked: false, hash: createHash('sha256') };
    const target = await tcpServer((socket) => {
      const push = (): void => {
        while (pushed.written < LIMIT) {
          pushed.written += chunk.length;
          pushed.hash.update(chunk);
          if (!socket.write(chunk)) {
            pushed.blocked = true;
            socket.once('drain', () => {
              pushed.blocked = false;
              push();
            });
            return;
          }
        }
        socket.end();
      };
      push();
    });
    try {
      const stream = openTcp(link, '127.0.0.1', target.port);
      await within(stream.opened, 10_000, 'OPEN_OK');
      // Nobody reads the stream: wait until the target itself is blocked and stays blocked.
      let last = -1;
      let steady = 0;
      await until(() => {
        steady = pushed.blocked && pushed.written === last ? steady + 1 : 0;
        last = pushed.written;
        return steady >= 10;
      }, 'target blocked by backpressure', 1500, 20);
      const samples: number[] = [];
      for (let i = 0; i < 10; i++) {
        samples.push(exit.stats().maxStreamBuffered);
        await new Promise((r) => setTimeout(r, 10));
      }
      const held = Math.max(...samples);
      assert.ok(pushed.written < LIMIT, `target was stopped after ${pushed.written} of ${LIMIT} bytes`);
      assert.ok(held <= BOUND, `exit held ${held} bytes for the stream, bound ${BOUND}`);
      assert.ok(exit.stats().toLink > 0, 'the exit queue is waiting for credit');
      // Resume reading: everything the target wrote arrives intact.
      const got = await within(readAll(stream, LIMIT + 1), 120_000, 'the whole push');
      assert.equal(got.length, LIMIT);
      assert.equal(sha256(got), pushed.hash.digest('hex'));
    } finally {
      await target.close();
    }
  });

  it('a target that does not read stops the link sender: the exit holds at most the stream window plus one write', async () => {
    let targetSocket: Socket | undefined;
    const received = { n: 0, hash: createHash('sha256') };
    let ended!: () => void;
    const targetEnded = new Promise<void>((r) => (ended = r));
    const target = await tcpServer((socket) => {
      targetSocket = socket;
      socket.pause();
      socket.on('data', (c: Buffer) => {
        received.n += c.length;
        received.hash.update(c);
      });
      socket.on('end', () => ended());
    });
    try {
      const stream = openTcp(link, '127.0.0.1', target.port);
      await within(stream.opened, 10_000, 'OPEN_OK');
      const chunk = patternBytes(64 * 1024, 11);
      const sent = createHash('sha256');
      let written = 0;
      // Write until the exit stops granting credit (the test never waits on a clock).
      while (written < LIMIT) {
        const w = stream.write(chunk);
        written += chunk.length;
        sent.update(chunk);
        let settled = false;
        void w.then(() => (settled = true));
        await until(() => settled || (stream.sendCredit === 0 && stream.writableLength > 0), 'write settled or credit exhausted', 1500, 2);
        if (!settled) break;
      }
      assert.ok(written < LIMIT, `the link sender was stopped after ${written} of ${LIMIT} bytes`);
      // The exit side settles: its socket is full and it stops reading the stream.
      let last = -1;
      let steady = 0;
      await until(() => {
        const s = exit.stats();
        const now = s.bytesUp;
        steady = now === last ? steady + 1 : 0;
        last = now;
        return steady >= 10;
      }, 'exit stops moving bytes up', 1500, 20);
      const s = exit.stats();
      assert.ok(s.maxStreamBuffered <= BOUND, `exit held ${s.maxStreamBuffered} bytes, bound ${BOUND}`);
      assert.ok(s.unread <= STREAM_WINDOW, `unread ${s.unread} within the granted window`);
      // Let the target read: everything written arrives, then the FIN.
      stream.end();
      targetSocket!.resume();
      await within(targetEnded, 120_000, 'target got everything and the FIN');
      assert.equal(received.n, written);
      assert.equal(received.hash.digest('hex'), sent.digest('hex'));
    } finally {
      await target.close();
    }
  });
});

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { MuxStream } from '../../../shared/mux/stream.ts';
import { startHandler, type RunningHandler } from '../../../handler/main.ts';
import {
  connectClient,
  exitEntry,
  handlerConfig,
  pattern,
  quietLogger,
  sha,
  startFakeExit,
  tcpRequest,
  testKey,
  userEntry,
  within,
  type FakeExit,
  type TestClient,
} from '../gateway/harness.ts';

const TOTAL = 16 << 20;
const CHUNK = 16384;
// Every window and queue on the way (exit queue, link stream window, handler queue, session
// stream window) is at most 256 KiB; anything near the total would mean a hop buffered freely.
const BOUND = 1536 * 1024;

/** Writes TOTAL bytes, counting what each awaited write() let through. */
function pump(stream: MuxStream, progress: { written: number }): Promise<void> {
  return (async () => {
    for (let o = 0; o < TOTAL; o += CHUNK) {
      await stream.write(pattern(CHUNK, o / CHUNK));
      progress.written = o + CHUNK;
    }
    stream.end();
  })();
}

/** Waits until `progress.written` stops moving for 300 ms (bounded), i.e. the sender is held back. */
async function settled(progress: { written: number }): Promise<number> {
  let last = -1;
  for (let i = 0; i < 100 && progress.written !== last; i++) {
    last = progress.written;
    await new Promise((r) => setTimeout(r, 300));
  }
  return progress.written;
}

async function readAll(stream: MuxStream): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const c of stream) parts.push(c.slice());
  return Buffer.concat(parts);
}

function expected(): string {
  const all = new Uint8Array(TOTAL);
  for (let o = 0; o < TOTAL; o += CHUNK) all.set(pattern(CHUNK, o / CHUNK), o);
  return sha(all);
}

describe('end-to-end flow control through the handler', () => {
  const user = testKey();
  let exit: FakeExit;
  let handler: RunningHandler;
  let client: TestClient;
  const exitStreams: MuxStream[] = [];

  before(async () => {
    exit = await startFakeExit('x', 'eu', (stream) => {
      stream.accept();
      exitStreams.push(stream);
    });
    handler = await startHandler(handlerConfig({ users: [userEntry('u', user)], exits: [exitEntry(exit)] }), { logger: quietLogger, closeGraceMs: 200 });
    await within(handler.links.when(() => handler.links.linkCount('x') > 0), 5000, 'link');
    client = await connectClient(handler.port, user);
  });

  after(async () => {
    client.close();
    await handler.close();
    await exit.close();
  });

  it('holds a download back hop by hop while the client does not read, then delivers it intact', async () => {
    const stream = client.session.open(tcpRequest());
    await stream.opened;
    const progress = { written: 0 };
    const sending = pump(exitStreams.at(-1)!, progress);
    const held = await settled(progress);
    assert.ok(held <= BOUND, `the exit got ${held} bytes through to a client that reads nothing`);
    assert.equal(sha(await within(readAll(stream), 60_000, 'download')), expected());
    await sending;
  });

  it('holds an upload back while the exit does not read, then delivers it intact', async () => {
    const stream = client.session.open(tcpRequest());
    await stream.opened;
    const progress = { written: 0 };
    const sending = pump(stream, progress);
    const held = await settled(progress);
    assert.ok(held <= BOUND, `the client got ${held} bytes through to an exit that reads nothing`);
    assert.equal(sha(await within(readAll(exitStreams.at(-1)!), 60_000, 'upload')), expected());
    await sending;
  });
});

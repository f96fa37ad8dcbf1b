import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startClient, type RunningClient } from '../../client/main.ts';
import { startFakeHandler, type FakeHandler } from './fake-handler.ts';
import { captureLog, clientConfig, makeUser, RawSocket, within } from './helpers.ts';

// Far above what the windows and the loopback socket buffers on the way can hold, far below
// what an unbounded relay would have taken by the time the counter stops moving.
const LIMIT = 96 << 20;

/** Polls `read()` every 100 ms until it stops growing for 5 polls (bounded to 20 s). */
async function settle(read: () => number): Promise<number> {
  let last = -1;
  let stable = 0;
  await within(
    (async () => {
      while (stable < 5) {
        await new Promise((r) => setTimeout(r, 100));
        const now = read();
        stable = now === last ? stable + 1 : 0;
        last = now;
        if (now > LIMIT) return;
      }
    })(),
    20_000,
    'the byte counter to settle',
  );
  return last;
}

/** Resolves when the server's first accepted connection closes. */
function firstClose(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.once('connection', (c) => c.once('close', () => resolve())));
}

describe('backpressure: a stalled reader at either end stops the other end', () => {
  const user = makeUser();
  let handler: FakeHandler;
  let client: RunningClient;

  before(async () => {
    handler = await startFakeHandler({ users: [user.publicKey] });
    client = await startClient(clientConfig([handler.url], handler.clusterPublicKey, user), { logger: captureLog().logger });
    await within(handler.waitSessions(1), 10_000, 'session');
  });

  after(async () => {
    await client.close();
    await handler.close();
  });

  async function socksTo(port: number, proxyPort = client.port): Promise<RawSocket> {
    const s = await RawSocket.connect(proxyPort);
    s.write(Buffer.from([5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, port >> 8, port & 0xff]));
    const r = await s.read(12);
    assert.equal(r[3], 0);
    return s;
  }

  it('an app that stops reading stops a destination that keeps sending', async () => {
    let written = 0;
    const chunk = Buffer.alloc(64 * 1024, 1);
    const origin = net.createServer((c) => {
      c.on('error', () => {});
      const pump = (): void => {
        while (written <= LIMIT && !c.destroyed) {
          written += chunk.length;
          if (!c.write(chunk)) {
            c.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
    const originClosed = firstClose(origin);
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', () => r()));
    const s = await socksTo((origin.address() as net.AddressInfo).port);
    s.socket.pause();
    try {
      const total = await settle(() => written);
      assert.ok(total < LIMIT, `the destination wrote ${total} bytes into a stalled path`);
      // The app leaving resets the stream, which releases the far socket though it is stalled.
      s.destroy();
      await within(originClosed, 10_000, 'the destination connection to close');
    } finally {
      s.destroy();
      origin.close();
    }
  });

  it('a destination that stops reading stops an app that keeps sending', async () => {
    const origin = net.createServer((c) => {
      c.pause();
      c.on('error', () => {});
    });
    await new Promise<void>((r) => origin.listen(0, '127.0.0.1', () => r()));
    // A client of its own, so that closing it below leaves the shared one alone.
    const own = await startClient(clientConfig([handler.url], handler.clusterPublicKey, user), { logger: captureLog().logger });
    const s = await socksTo((origin.address() as net.AddressInfo).port, own.port);
    let written = 0;
    const chunk = Buffer.alloc(64 * 1024, 2);
    const pump = (): void => {
      while (written <= LIMIT && !s.socket.destroyed) {
        written += chunk.length;
        if (!s.socket.write(chunk)) {
          s.socket.once('drain', pump);
          return;
        }
      }
    };
    pump();
    try {
      const total = await settle(() => written);
      assert.ok(total < LIMIT, `the app wrote ${total} bytes into a stalled path`);
      assert.equal(handler.egressOpen, 1);
      // Losing the session resets the stream; the relay towards the destination, parked on a
      // drain that never comes, must still give up its socket.
      await own.close();
      await within(
        (async () => {
          while (handler.egressOpen > 0) await new Promise((r) => setTimeout(r, 20));
        })(),
        10_000,
        'the relay to the stalled destination to end',
      );
    } finally {
      s.destroy();
      await own.close();
      origin.close();
    }
  });
});

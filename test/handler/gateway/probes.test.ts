import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSessionInitiator } from '../../../shared/crypto/session.ts';
import { StaticKey } from '../../../shared/crypto/static-key.ts';
import { encodeHello, PaddingPolicy, Role } from '../../../shared/protocol/hello.ts';
import { startHandler, type RunningHandler } from '../../../handler/main.ts';
import {
  afterHead,
  CLUSTER,
  connectClient,
  exitEntry,
  handlerConfig,
  pattern,
  quietLogger,
  rawConnect,
  roundTrip,
  SECRET_PATH,
  sha,
  startFakeExit,
  testKey,
  upgradeRequest,
  userEntry,
  within,
  wsFrame,
  type FakeExit,
  type TestKey,
} from './harness.ts';

const HANDSHAKE_TIMEOUT = 500;

/** A real IK message 1 from `user` (valid unless the handler does not know the user). */
function message1(user: TestKey, timestamp = Date.now()): Uint8Array {
  const state = createSessionInitiator({ staticKey: StaticKey.fromPrivate(user.privateKey), remoteStatic: CLUSTER.publicKey });
  return state.writeMessage(
    encodeHello({
      role: Role.CLIENT,
      paddingPolicy: PaddingPolicy.NONE,
      capabilities: 0,
      timestamp,
      maxFrameLength: 16384,
      streamWindow: 262144,
      sessionWindow: 1 << 20,
      maxStreams: 512,
      nodeId: '',
      region: '',
    }),
  );
}

/** Upgrades on the secret path, sends `payload` frames, and reports what came back and when it closed. */
async function probe(port: number, payloads: Uint8Array[]): Promise<{ after: Buffer; openMs: number }> {
  const raw = await rawConnect(port);
  raw.socket.write(upgradeRequest(SECRET_PATH));
  await raw.waitFor('\r\n\r\n', 5000);
  assert.match(raw.received().toString('latin1'), /^HTTP\/1\.1 101 /);
  const upgradedAt = Date.now();
  for (const p of payloads) raw.socket.write(wsFrame(p));
  await within(raw.closed, 10_000, 'server closes the probe');
  return { after: afterHead(raw.received()), openMs: Date.now() - upgradedAt };
}

function assertSilentIdleClose(result: { after: Buffer; openMs: number }, what: string): void {
  assert.equal(result.after.length, 0, `${what}: the server sent ${result.after.length} bytes after the upgrade (a close frame or an answer)`);
  // Only a lower bound: the socket stayed open until the handshake deadline, like an idle one.
  assert.ok(result.openMs >= HANDSHAKE_TIMEOUT - 100, `${what}: closed after ${result.openMs} ms, before the handshake deadline`);
}

describe('failed handshakes look like an idle socket', () => {
  const alice = testKey();
  let exit: FakeExit;
  let handler: RunningHandler;

  before(async () => {
    exit = await startFakeExit('x1', 'eu');
    handler = await startHandler(
      handlerConfig({ users: [userEntry('alice', alice)], exits: [exitEntry(exit)], limits: { handshakeTimeout: HANDSHAKE_TIMEOUT } }),
      { logger: quietLogger },
    );
    await within(handler.links.when(() => handler.links.linkCount('x1') > 0), 5000, 'link');
  });

  after(async () => {
    await handler.close();
    await exit.close();
  });

  it('answers silence, an unknown key, garbage, a truncated and a replayed message 1 identically, while a user transfers', async () => {
    const client = await connectClient(handler.port, alice);
    const data = pattern(6 << 20, 3);
    const transfer = roundTrip(client.session, data);

    const valid = message1(alice);
    const first = await rawConnect(handler.port);
    first.socket.write(upgradeRequest(SECRET_PATH));
    await first.waitFor('\r\n\r\n', 5000);
    first.socket.write(wsFrame(valid));
    // The genuine message 1 is answered with message 2...
    await within(
      (async () => {
        while (afterHead(first.received()).length === 0) await new Promise((r) => setTimeout(r, 10));
      })(),
      5000,
      'message 2',
    );

    const results = await Promise.all([
      probe(handler.port, []),
      probe(handler.port, [message1(testKey())]),
      probe(handler.port, [randomBytes(180), randomBytes(3000)]),
      probe(handler.port, [valid.subarray(0, 40)]),
      // ...and the same bytes again are refused as a replay.
      probe(handler.port, [valid]),
      probe(handler.port, [message1(alice, Date.now() - 120_000)]),
    ]);
    first.socket.destroy();
    const names = ['idle', 'unknown key', 'garbage', 'truncated message 1', 'replayed message 1', 'stale timestamp'];
    results.forEach((r, i) => assertSilentIdleClose(r, names[i]!));
    // Each probe reached the refusal it was built for.
    const text = handler.registry.metrics();
    for (const [result, n] of [['timeout', 1], ['unknown_user', 1], ['bad_handshake', 2], ['replay', 2]] as const) {
      assert.match(text, new RegExp(`apfsds_handler_handshakes_total\\{result="${result}"\\} ${n}\\b`), result);
    }

    const back = await within(transfer, 30_000, 'the concurrent transfer');
    assert.equal(sha(back), sha(data));
    client.close();
  });
});

describe('per-IP connection rate', () => {
  it('drains a valid handshake over the rate exactly like a failed one', async () => {
    const alice = testKey();
    const handler = await startHandler(
      handlerConfig({ users: [userEntry('alice', alice)], limits: { handshakeTimeout: HANDSHAKE_TIMEOUT, connectionRate: { rate: 1, burst: 1 } } }),
      { logger: quietLogger },
    );
    try {
      const ok = await connectClient(handler.port, alice);
      const refused = await probe(handler.port, [message1(alice)]);
      assertSilentIdleClose(refused, 'over the rate');
      ok.close();
    } finally {
      await handler.close();
    }
  });
});

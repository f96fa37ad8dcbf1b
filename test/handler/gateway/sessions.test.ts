import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../../shared/errors.ts';
import { CloseCode, OpenFailReason } from '../../../shared/protocol/codes.ts';
import { AddressType, Network } from '../../../shared/protocol/constants.ts';
import { startHandler, type RunningHandler } from '../../../handler/main.ts';
import {
  connectClient,
  eventually,
  exitEntry,
  handlerConfig,
  pattern,
  quietLogger,
  roundTrip,
  sha,
  startFakeExit,
  tcpRequest,
  testKey,
  userEntry,
  within,
  type FakeExit,
} from './harness.ts';

describe('client sessions through the handler to an exit', () => {
  const alice = testKey();
  const bob = testKey();
  const carol = testKey();
  const dave = testKey();
  let exit: FakeExit;
  let handler: RunningHandler;

  before(async () => {
    exit = await startFakeExit('x1', 'eu');
    handler = await startHandler(
      handlerConfig({
        users: [
          userEntry('alice', alice),
          userEntry('bob', bob, { maxSessions: 1 }),
          userEntry('carol', carol),
          userEntry('dave', dave, { quota: 300_000 }),
        ],
        exits: [exitEntry(exit)],
        limits: { maxStreamsPerSession: 4 },
      }),
      { logger: quietLogger },
    );
    await within(handler.links.when(() => handler.links.linkCount('x1') > 0), 5000, 'link to x1');
  });

  after(async () => {
    await handler.close();
    await exit.close();
  });

  it('relays 3 MiB both ways intact and tags the link OPEN with an opaque user hash', async () => {
    const client = await connectClient(handler.port, alice);
    const data = pattern(3 << 20, 7);
    const back = await within(roundTrip(client.session, data), 20_000, 'round trip');
    assert.equal(back.length, data.length);
    assert.equal(sha(back), sha(data));
    const tag = exit.opens.at(-1)?.tag;
    assert.ok(tag !== undefined && tag.length === 8);
    assert.ok(!Buffer.from(tag).toString('latin1').includes('alice'));
    client.close();
  });

  it('runs many streams of one session concurrently', async () => {
    const client = await connectClient(handler.port, alice);
    const results = await within(
      Promise.all([1, 2, 3, 4].map((i) => roundTrip(client.session, pattern(200_000, i)))),
      20_000,
      'four streams',
    );
    results.forEach((r, i) => assert.equal(sha(r), sha(pattern(200_000, i + 1))));
    client.close();
  });

  it('relays datagrams of a udp stream both ways', async () => {
    const client = await connectClient(handler.port, alice);
    const stream = client.session.open({ network: Network.UDP, address: { addressType: AddressType.IPV4, host: '0.0.0.0', port: 0 } });
    await stream.opened;
    const got: Array<{ host: string; port: number; text: string }> = [];
    const arrived = new Promise<void>((resolve) =>
      stream.onDatagram((address, payload) => {
        got.push({ host: address.host, port: address.port, text: new TextDecoder().decode(payload) });
        if (got.length === 2) resolve();
      }),
    );
    const to = { addressType: AddressType.IPV4, host: '192.0.2.53', port: 53 } as const;
    assert.equal(stream.sendDatagram(to, new TextEncoder().encode('one')), true);
    assert.equal(stream.sendDatagram(to, new TextEncoder().encode('two')), true);
    await within(arrived, 5000, 'datagrams back');
    assert.deepEqual(got, [
      { host: '192.0.2.53', port: 53, text: 'one' },
      { host: '192.0.2.53', port: 53, text: 'two' },
    ]);
    stream.end();
    client.close();
  });

  it('refuses the stream above limits.maxStreamsPerSession with STREAM_LIMIT', async () => {
    const client = await connectClient(handler.port, alice, { ignorePeerStreamLimit: true });
    const open = [1, 2, 3, 4].map(() => client.session.open(tcpRequest()));
    await Promise.all(open.map((s) => s.opened));
    const fifth = client.session.open(tcpRequest());
    await assert.rejects(fifth.opened, (err: { code?: string; reason?: number }) => err.code === ErrorCode.OPEN_FAILED && err.reason === OpenFailReason.STREAM_LIMIT);
    for (const s of open) s.reset();
    client.close();
  });

  it('holds a user to its session limit: the extra handshake gets no answer', async () => {
    const first = await connectClient(handler.port, bob);
    await assert.rejects(connectClient(handler.port, bob, { timeoutMs: 600 }), (err: { code?: string }) => err.code === ErrorCode.TIMEOUT || err.code === ErrorCode.CLOSED);
    const back = await roundTrip(first.session, pattern(1000));
    assert.equal(back.length, 1000);
    first.close();
    await eventually(() => handler.gateway.sessionsOf('bob') === 0, 5000, 'bob session gone');
    const again = await connectClient(handler.port, bob);
    again.close();
  });

  it('closes the sessions of a user disabled in the state', async () => {
    const client = await connectClient(handler.port, carol);
    const stream = client.session.open(tcpRequest());
    await stream.opened;
    const result = await handler.store.propose({ v: 1, op: 'user.update', id: 'carol', status: 'disabled' });
    assert.equal(result.ok, true);
    const err = await within(client.session.closed, 5000, 'session closed');
    assert.ok(err === undefined || err instanceof Error);
    assert.equal(handler.gateway.sessionsOf('carol'), 0);
    await assert.rejects(connectClient(handler.port, carol, { timeoutMs: 600 }));
  });

  it('counts usage, resets streams with POLICY at the quota and refuses new ones with QUOTA_EXCEEDED', async () => {
    const client = await connectClient(handler.port, dave);
    const stream = client.session.open(tcpRequest());
    await stream.opened;
    const reading = (async () => {
      for await (const _ of stream) void _;
    })();
    const writing = (async () => {
      for (let i = 0; i < 40; i++) await stream.write(pattern(16384, i));
    })();
    const failure = await within(reading.then(() => null, (e: unknown) => e), 10_000, 'stream reset');
    await writing.catch(() => {});
    assert.equal((failure as { closeCode?: number } | null)?.closeCode, CloseCode.POLICY);
    const next = client.session.open(tcpRequest());
    await assert.rejects(next.opened, (err: { reason?: number }) => err.reason === OpenFailReason.QUOTA_EXCEEDED);
    client.close();
    await handler.close();
    // close() flushed the ledger: the state has the bytes and blocks the user.
    const dv = handler.store.view.users.get('dave');
    assert.ok(dv !== undefined && dv.used >= 300_000);
    assert.equal(handler.store.view.users.admit(dave.publicKey).ok, false);
  });
});

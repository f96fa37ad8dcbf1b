import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../../shared/errors.ts';
import type { MuxSession } from '../../../shared/mux/session.ts';
import type { OpenRequest } from '../../../shared/mux/options.ts';
import { CloseCode, OpenFailReason, type OpenFailReasonValue } from '../../../shared/protocol/codes.ts';
import { startHandler, type RunningHandler } from '../../../handler/main.ts';
import {
  connectClient,
  dialReverseExit,
  echo,
  echoThrough,
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
  type ExitBehaviour,
  type FakeExit,
} from '../gateway/harness.ts';

const user = testKey();
let cleanup: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(
  exits: Array<{ id: string; region: string; weight?: number; behaviour?: ExitBehaviour }>,
  extra: Record<string, unknown> = {},
): Promise<{ handler: RunningHandler; exits: Map<string, FakeExit> }> {
  const started = new Map<string, FakeExit>();
  for (const e of exits) {
    const x = await startFakeExit(e.id, e.region, e.behaviour);
    started.set(e.id, x);
    cleanup.push(() => x.close());
  }
  const handler = await startHandler(
    handlerConfig({
      users: [userEntry('u', user)],
      exits: exits.map((e) => exitEntry(started.get(e.id)!, e.weight === undefined ? {} : { weight: e.weight })),
      ...extra,
    }),
    { logger: quietLogger, closeGraceMs: 200 },
  );
  cleanup.push(() => handler.close());
  await within(handler.links.when(() => exits.every((e) => handler.links.linkCount(e.id) > 0)), 5000, 'links up');
  return { handler, exits: started };
}

/** Exit a in the US and b in the EU, a client that prefers the US, and one stream open through a. */
async function oneStreamOnUsExit(): Promise<{
  handler: RunningHandler;
  exits: Map<string, FakeExit>;
  client: Awaited<ReturnType<typeof connectClient>>;
  old: ReturnType<MuxSession['open']>;
}> {
  const { handler, exits } = await setup([
    { id: 'a', region: 'us' },
    { id: 'b', region: 'eu' },
  ]);
  const client = await connectClient(handler.port, user, { region: 'us' });
  cleanup.push(() => client.close());
  const old = client.session.open(tcpRequest());
  await old.opened;
  return { handler, exits, client, old };
}

/** Opens `n` streams in batches, each a tiny echo; resolves with the failures. */
async function openMany(session: MuxSession, n: number, batch = 200): Promise<unknown[]> {
  const failures: unknown[] = [];
  for (let done = 0; done < n; done += batch) {
    const count = Math.min(batch, n - done);
    await Promise.all(
      Array.from({ length: count }, async () => {
        try {
          const s = session.open(tcpRequest());
          await s.opened;
          s.end();
          for await (const _ of s) void _;
        } catch (err) {
          failures.push(err);
        }
      }),
    );
  }
  return failures;
}

const refuseWith = (reason: OpenFailReasonValue): ExitBehaviour => (stream) => stream.reject(reason);

describe('exit routing through links', () => {
  it('splits 4,000 streams over weights 1/1/2 within 5 points of 25/25/50 %', async () => {
    const { handler, exits } = await setup([
      { id: 'us', region: 'us', weight: 1 },
      { id: 'eu', region: 'eu', weight: 1 },
      { id: 'asia', region: 'asia', weight: 2 },
    ]);
    const client = await connectClient(handler.port, user);
    cleanup.push(() => client.close());
    const failures = await within(openMany(client.session, 4000), 120_000, '4,000 streams');
    assert.deepEqual(failures, []);
    const counts = ['us', 'eu', 'asia'].map((id) => exits.get(id)!.opens.length);
    assert.equal(counts.reduce((a, b) => a + b, 0), 4000);
    const shares = counts.map((c) => (100 * c) / 4000);
    for (const [share, want] of [[shares[0]!, 25], [shares[1]!, 25], [shares[2]!, 50]] as const) {
      assert.ok(Math.abs(share - want) <= 5, `share ${share}% vs ${want}% (${counts.join('/')})`);
    }
  });

  it('retries a retryable OPEN_FAIL on another exit before any byte moved, early data included', async () => {
    const { handler, exits } = await setup([
      { id: 'bad', region: 'eu', behaviour: refuseWith(OpenFailReason.EXIT_UNAVAILABLE) },
      { id: 'good', region: 'eu' },
    ]);
    const client = await connectClient(handler.port, user);
    cleanup.push(() => client.close());
    for (let i = 0; i < 30; i++) {
      const data = pattern(50_000, i);
      // roundTrip writes right after open(): the first bytes travel as early data.
      const stream = client.session.open(tcpRequest());
      assert.equal(sha(await within(echoThrough(stream, data), 10_000, 'retried stream')), sha(data));
    }
    // Passive health: health.failureThreshold (5) failures in a row eject the exit for 10 s.
    assert.equal(exits.get('bad')!.opens.length, 5);
    assert.equal(exits.get('good')!.opens.length, 30);
    assert.equal(handler.selector.snapshot().find((e) => e.id === 'bad')?.health.status, 'ejected');
  });

  it('opens no new streams on a link the exit sent GOAWAY on, and lets its open stream finish', async () => {
    const { handler, exits, client, old } = await oneStreamOnUsExit();
    const a = exits.get('a')!;
    a.refuseLinks = true;
    a.goAway();
    await within(handler.links.when(() => handler.links.links('a').every((l) => !l.alive)), 5000, 'GOAWAY seen');
    assert.deepEqual(await openMany(client.session, 10), []);
    assert.equal(a.opens.length, 1);
    const data = pattern(100_000, 2);
    assert.equal(sha(await within(echoThrough(old, data), 10_000, 'old stream')), sha(data));
  });

  it("passes a destination's verdict back without retrying", async () => {
    const { handler, exits } = await setup([
      { id: 'a', region: 'eu', behaviour: refuseWith(OpenFailReason.CONNECTION_REFUSED) },
      { id: 'b', region: 'eu', behaviour: refuseWith(OpenFailReason.CONNECTION_REFUSED) },
    ]);
    const client = await connectClient(handler.port, user);
    cleanup.push(() => client.close());
    for (let i = 0; i < 4; i++) {
      const s = client.session.open(tcpRequest());
      await assert.rejects(s.opened, (err: { code?: string; reason?: number }) => err.code === ErrorCode.OPEN_FAILED && err.reason === OpenFailReason.CONNECTION_REFUSED);
    }
    assert.equal(exits.get('a')!.opens.length + exits.get('b')!.opens.length, 4);
  });

  it('answers NO_EXIT when the user may use no region', async () => {
    const other = testKey();
    const { handler } = await setup([{ id: 'a', region: 'eu' }], { users: [userEntry('u', user), userEntry('nowhere', other, { allowedRegions: [] })] });
    const client = await connectClient(handler.port, other);
    cleanup.push(() => client.close());
    const s = client.session.open(tcpRequest());
    await assert.rejects(s.opened, (err: { reason?: number }) => err.reason === OpenFailReason.NO_EXIT);
  });

  it('routes a session\'s next streams by the user\'s allowed regions as they are now', async () => {
    const { handler, exits } = await setup([
      { id: 'a', region: 'us' },
      { id: 'b', region: 'eu' },
    ]);
    const client = await connectClient(handler.port, user);
    cleanup.push(() => client.close());
    assert.deepEqual(await openMany(client.session, 20), []);
    assert.ok(exits.get('a')!.opens.length > 0 && exits.get('b')!.opens.length > 0, 'both regions while every region is allowed');
    const before = exits.get('a')!.opens.length;
    assert.equal((await handler.store.propose({ v: 1, op: 'user.update', id: 'u', allowedRegions: ['eu'] })).ok, true);
    assert.deepEqual(await openMany(client.session, 20), []);
    assert.equal(exits.get('a')!.opens.length, before, 'no new stream in a region the user lost');
    assert.equal((await handler.store.propose({ v: 1, op: 'user.update', id: 'u', allowedRegions: [] })).ok, true);
    const s = client.session.open(tcpRequest());
    await assert.rejects(s.opened, (err: { reason?: number }) => err.reason === OpenFailReason.NO_EXIT);
  });

  it('sends no new streams to a draining exit while its open stream finishes', async () => {
    const { handler, exits, client, old } = await oneStreamOnUsExit();
    assert.equal(exits.get('a')!.opens.length, 1);
    const drained = await handler.store.propose({ v: 1, op: 'exit.update', id: 'a', state: 'draining' });
    assert.equal(drained.ok, true);
    assert.deepEqual(await openMany(client.session, 20), []);
    assert.equal(exits.get('a')!.opens.length, 1);
    assert.equal(exits.get('b')!.opens.length, 20);
    // The old stream keeps flowing through the draining exit.
    const data = pattern(300_000, 9);
    assert.equal(sha(await within(echoThrough(old, data), 10_000, 'old stream')), sha(data));
  });

  it('applies a weight change from the state at once', async () => {
    const { handler, exits } = await setup([
      { id: 'a', region: 'eu' },
      { id: 'b', region: 'eu' },
    ]);
    const client = await connectClient(handler.port, user);
    cleanup.push(() => client.close());
    assert.equal((await handler.store.propose({ v: 1, op: 'exit.update', id: 'b', weight: 0 })).ok, true);
    assert.deepEqual(await openMany(client.session, 30), []);
    assert.equal(exits.get('a')!.opens.length, 30);
    assert.equal(exits.get('b')!.opens.length, 0);
    assert.equal((await handler.store.propose({ v: 1, op: 'exit.update', id: 'b', weight: 3 })).ok, true);
    assert.deepEqual(await openMany(client.session, 40), []);
    assert.equal(exits.get('b')!.opens.length, 30);
  });

  it('drops a frozen exit after missed heartbeats; afterwards no OPEN fails', async () => {
    const { handler, exits } = await setup([
      { id: 'a', region: 'eu' },
      { id: 'b', region: 'eu' },
      { id: 'c', region: 'eu' },
    ]);
    const client = await connectClient(handler.port, user);
    cleanup.push(() => client.close());
    const b = exits.get('b')!;
    b.refuseLinks = true;
    b.freeze();
    await within(handler.links.when(() => handler.links.linkCount('b') === 0), 10_000, 'frozen link dropped');
    const before = b.opens.length;
    assert.deepEqual(await openMany(client.session, 60), []);
    assert.equal(b.opens.length, before);
    assert.equal(exits.get('a')!.opens.length + exits.get('c')!.opens.length, 60);
  });

  it('resets a client stream whose exit link dies with UPSTREAM_LOST', async () => {
    const { handler, exits } = await setup([{ id: 'a', region: 'eu' }]);
    const client = await connectClient(handler.port, user);
    cleanup.push(() => client.close());
    const s = client.session.open(tcpRequest());
    await s.opened;
    const a = exits.get('a')!;
    a.refuseLinks = true;
    for (const link of a.sessions) link.close(CloseCode.INTERNAL_ERROR);
    const err = await within(
      s.read().then(
        () => null,
        (e: unknown) => e,
      ),
      5000,
      'reset',
    );
    assert.equal((err as { closeCode?: number }).closeCode, CloseCode.UPSTREAM_LOST);
  });
});

describe('reverse-mode exits', () => {
  it('accepts a registered exit dialing links.path and routes streams to it', async () => {
    const key = testKey();
    const reverse = { id: 'r', region: 'ap', key, opens: [] as OpenRequest[], sessions: new Set<MuxSession>(), behaviour: echo };
    const handler = await startHandler(
      handlerConfig({ users: [userEntry('u', user)], exits: [{ id: 'r', region: 'ap', publicKey: key.publicText, mode: 'reverse', weight: 2 }] }),
      { logger: quietLogger, closeGraceMs: 200 },
    );
    cleanup.push(() => handler.close());
    const link = await dialReverseExit(handler.port, reverse);
    cleanup.push(() => link.close());
    await within(handler.links.when(() => handler.links.linkCount('r') > 0), 5000, 'reverse link');
    const client = await connectClient(handler.port, user, { region: 'ap' });
    cleanup.push(() => client.close());
    const data = pattern(400_000, 5);
    assert.equal(sha(await within(roundTrip(client.session, data), 10_000, 'round trip')), sha(data));
    assert.equal(reverse.opens.length, 1);
  });

  it('gives an unregistered caller on links.path no answer', async () => {
    const handler = await startHandler(handlerConfig({ limits: { handshakeTimeout: 300 } }), { logger: quietLogger, closeGraceMs: 200 });
    cleanup.push(() => handler.close());
    const stranger = { id: 'x', region: 'ap', key: testKey(), opens: [], sessions: new Set<MuxSession>(), behaviour: echo };
    await assert.rejects(dialReverseExit(handler.port, stranger), (err: { code?: string }) => err.code === ErrorCode.TIMEOUT || err.code === ErrorCode.CLOSED);
    assert.equal(handler.links.linkCount(), 0);
  });
});


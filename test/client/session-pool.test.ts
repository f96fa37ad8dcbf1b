import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionPool, type SessionDialer } from '../../client/session-pool.ts';
import { codedError, ErrorCode } from '../../shared/errors.ts';
import { createMemoryTransportPair, type MemoryTransport } from '../../shared/mux/memory-transport.ts';
import { MuxSession } from '../../shared/mux/session.ts';
import { AddressType, Network } from '../../shared/protocol/constants.ts';
import { within } from './helpers.ts';

const FAST_BACKOFF = { minMs: 5, maxMs: 20, jitter: 0 };
const request = { network: Network.TCP, address: { addressType: AddressType.IPV4, host: '192.0.2.1', port: 80 } } as const;

/** A dialer over in-memory pairs: each dial makes an acceptor that accepts every stream. */
function memoryDialer(failing: ReadonlySet<string> = new Set()) {
  const dialed: string[] = [];
  const peers: Array<{ url: string; acceptor: MuxSession; wire: MemoryTransport }> = [];
  const dial: SessionDialer = async (url, hooks) => {
    dialed.push(url);
    if (failing.has(url)) throw codedError(Error, ErrorCode.CONNECT_FAILED, `refused ${url}`);
    const [a, b] = createMemoryTransportPair();
    const acceptor = new MuxSession(b, { role: 'acceptor', keepaliveIntervalMs: 0, onOpen: (s) => s.accept() });
    peers.push({ url, acceptor, wire: a });
    return new MuxSession(a, { role: 'opener', keepaliveIntervalMs: 0, onGoAway: () => hooks.onGoAway() });
  };
  return { dial, dialed, peers };
}

async function until(check: () => boolean, what: string): Promise<void> {
  await within(
    (async () => {
      while (!check()) await new Promise((r) => setTimeout(r, 5));
    })(),
    5000,
    what,
  );
}

test('slots start on different URLs and new streams go to the session with the fewest streams', async () => {
  const d = memoryDialer();
  const pool = new SessionPool({ urls: ['u0', 'u1'], size: 2, dial: d.dial, backoff: FAST_BACKOFF });
  pool.start();
  try {
    await until(() => pool.live.length === 2, 'two sessions');
    assert.deepEqual(pool.live.map((p) => p.urlIndex).sort(), [0, 1]);
    const first = await pool.acquire();
    await first.connect(request);
    const second = await pool.acquire();
    assert.notEqual(second, first);
    await second.connect(request);
    await second.connect(request);
    assert.equal(await pool.acquire(), first);
  } finally {
    await pool.close();
  }
});

test('a failing URL is skipped: the slot fails over to the next URL and reports the error', async () => {
  const d = memoryDialer(new Set(['bad']));
  const errors: number[] = [];
  const pool = new SessionPool({ urls: ['bad', 'good'], size: 1, dial: d.dial, backoff: FAST_BACKOFF, onDialError: (i) => errors.push(i) });
  pool.start();
  try {
    await until(() => pool.live.length === 1, 'a session');
    assert.equal(pool.live[0]?.urlIndex, 1);
    assert.deepEqual(d.dialed.slice(0, 2), ['bad', 'good']);
    assert.deepEqual(errors, [0]);
  } finally {
    await pool.close();
  }
});

test('a lost session is redialed on the next URL and counted as a reconnect', async () => {
  const d = memoryDialer();
  let reconnects = 0;
  const counts: number[] = [];
  const pool = new SessionPool({
    urls: ['u0', 'u1'],
    size: 1,
    dial: d.dial,
    backoff: FAST_BACKOFF,
    onReconnect: () => reconnects++,
    onSessionCount: (n) => counts.push(n),
  });
  pool.start();
  try {
    await until(() => pool.live.length === 1, 'first session');
    d.peers[0]?.wire.fail(new Error('cable cut'));
    await until(() => d.dialed.length === 2 && pool.live.length === 1, 'second session');
    assert.deepEqual(d.dialed, ['u0', 'u1']);
    assert.equal(reconnects, 1);
    assert.deepEqual(counts, [1, 0, 1]);
  } finally {
    await pool.close();
  }
});

test('after GOAWAY the session keeps its stream but takes no new ones, and a replacement is dialed', async () => {
  const d = memoryDialer();
  const pool = new SessionPool({ urls: ['u0'], size: 1, dial: d.dial, backoff: FAST_BACKOFF });
  pool.start();
  try {
    await until(() => pool.live.length === 1, 'first session');
    const old = await pool.acquire();
    const stream = await old.connect(request);
    d.peers[0]?.acceptor.goAway();
    await until(() => d.dialed.length === 2 && pool.live.length === 1, 'replacement');
    const fresh = await pool.acquire();
    assert.notEqual(fresh, old);
    await stream.write(Uint8Array.of(1, 2, 3));
    stream.end();
    assert.equal(old.isClosed, false);
  } finally {
    await pool.close();
  }
});

test('acquire() waits for a session, honours its signal, and close() rejects waiters with CLOSED', async () => {
  const never: SessionDialer = (_url, hooks) =>
    new Promise((_resolve, reject) => hooks.signal.addEventListener('abort', () => reject(hooks.signal.reason), { once: true }));
  const pool = new SessionPool({ urls: ['u0'], size: 1, dial: never, backoff: FAST_BACKOFF });
  pool.start();
  const controller = new AbortController();
  const aborted = pool.acquire({ signal: controller.signal });
  controller.abort(codedError(Error, ErrorCode.ABORTED, 'app left'));
  await assert.rejects(aborted, { code: ErrorCode.ABORTED });
  const waiting = pool.acquire();
  await pool.close();
  await assert.rejects(waiting, { code: ErrorCode.CLOSED });
  await assert.rejects(pool.acquire(), { code: ErrorCode.CLOSED });
});

test('the constructor refuses an empty URL list and a bad pool size with BAD_CONFIG', () => {
  const d = memoryDialer();
  assert.throws(() => new SessionPool({ urls: [], size: 1, dial: d.dial, backoff: FAST_BACKOFF }), { code: ErrorCode.BAD_CONFIG });
  assert.throws(() => new SessionPool({ urls: ['u'], size: 0, dial: d.dial, backoff: FAST_BACKOFF }), { code: ErrorCode.BAD_CONFIG });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../../shared/errors.ts';
import { Accounts, type Closable } from '../../../handler/gateway/accounts.ts';
import { clientAddress, ConnectionRateLimiter } from '../../../handler/gateway/ip-limiter.ts';
import { TokenBucket } from '../../../handler/gateway/token-bucket.ts';
import { UsageLedger } from '../../../handler/gateway/usage.ts';
import { backoffDelay } from '../../../handler/links/backoff.ts';
import { LocalStateStore } from '../../../handler/state/store.ts';
import { DEFAULT_SETTINGS } from '../../../handler/state/index.ts';
import type { Command } from '../../../handler/state/commands.ts';
import type { UserRecord } from '../../../handler/state/types.ts';
import { quietLogger, testKey } from './harness.ts';

function clock(start = 1000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

describe('TokenBucket', () => {
  it('starts full, refuses beyond the burst and refills at the rate', () => {
    const c = clock();
    const b = new TokenBucket({ rate: 10, burst: 3, now: c.now });
    assert.equal(b.tryTake(), true);
    assert.equal(b.tryTake(2), true);
    assert.equal(b.tryTake(), false);
    c.advance(100);
    assert.equal(b.tryTake(), true);
    assert.equal(b.tryTake(), false);
    c.advance(10_000);
    assert.equal(b.tokens, 3);
  });

  it('shapes by debt: the wait repays exactly what was taken beyond the tokens', () => {
    const c = clock();
    const b = new TokenBucket({ rate: 1000, burst: 1000, now: c.now });
    assert.equal(b.take(1000), 0);
    assert.equal(b.take(500), 500);
    assert.equal(b.take(500), 1000);
    c.advance(1000);
    assert.equal(b.take(0), 0);
    assert.equal(b.tokens, 0);
  });

  it('applies a new rate at once and clamps to a smaller burst', () => {
    const c = clock();
    const b = new TokenBucket({ rate: 100, burst: 100, now: c.now });
    b.configure(10, 5);
    assert.equal(b.tokens, 5);
    assert.equal(b.take(15), 1000);
  });

  it('throws BAD_CONFIG for a rate or burst that is not positive', () => {
    assert.throws(() => new TokenBucket({ rate: 0, burst: 1 }), (e: { code?: string }) => e.code === ErrorCode.BAD_CONFIG);
    assert.throws(() => new TokenBucket({ rate: 1, burst: -1 }), (e: { code?: string }) => e.code === ErrorCode.BAD_CONFIG);
  });
});

describe('ConnectionRateLimiter', () => {
  it('keeps one bucket per address and forgets the least recently used beyond its cap', () => {
    const c = clock();
    const limiter = new ConnectionRateLimiter({ rate: 1, burst: 2, maxAddresses: 2, now: c.now });
    assert.deepEqual([limiter.allow('a'), limiter.allow('a'), limiter.allow('a')], [true, true, false]);
    assert.equal(limiter.allow('b'), true);
    assert.equal(limiter.allow('c'), true);
    assert.equal(limiter.size, 2);
    // 'a' was evicted: it starts again with a full bucket.
    assert.equal(limiter.allow('a'), true);
    c.advance(1000);
    assert.equal(limiter.allow('c'), true);
  });

  it('takes the last X-Forwarded-For entry only behind a trusted proxy', () => {
    const h = new Headers({ 'x-forwarded-for': '6.6.6.6, 203.0.113.9' });
    assert.equal(clientAddress(h, '10.0.0.1', false), '10.0.0.1');
    assert.equal(clientAddress(h, '10.0.0.1', true), '203.0.113.9');
    assert.equal(clientAddress(new Headers(), '10.0.0.1', true), '10.0.0.1');
  });
});

describe('backoffDelay', () => {
  it('doubles from the minimum to the cap and shortens by at most the jitter', () => {
    const o = { minMs: 100, maxMs: 1000, jitter: 0.5 };
    assert.deepEqual([0, 1, 2, 3, 4, 40].map((a) => backoffDelay(a, o, () => 0)), [100, 200, 400, 800, 1000, 1000]);
    assert.equal(backoffDelay(1, o, () => 0.999), 100);
  });
});

function user(id: string, extra: Partial<UserRecord> = {}): UserRecord {
  return { id, publicKey: testKey().publicText, status: 'active', quota: null, used: 0, rateLimit: null, allowedRegions: null, maxSessions: null, ...extra };
}

describe('Accounts', () => {
  const limits = { maxSessionsPerUser: 2, userBandwidth: { rate: 1000, burst: 500 } };
  const closable = (log: string[], name: string): Closable => ({ closeFor: (r) => void log.push(`${name}:${r}`) });

  it('holds a user to maxSessions counting handshakes in progress, and frees slots', () => {
    const accounts = new Accounts({ limits, settings: () => DEFAULT_SETTINGS });
    const u = user('u');
    const r1 = accounts.reserve(u)!;
    const r2 = accounts.reserve(u)!;
    assert.equal(accounts.reserve(u), null);
    r1.release();
    r1.release();
    const s = closable([], 's');
    accounts.reserve(u)!.commit(s);
    assert.equal(accounts.reserve(u), null);
    r2.release();
    accounts.remove('u', s);
    assert.equal(accounts.get('u')?.occupied ?? 0, 0);
    assert.equal(accounts.get('u'), undefined);
  });

  it("takes the user's own limits over the settings and the config", () => {
    const accounts = new Accounts({ limits, settings: () => ({ ...DEFAULT_SETTINGS, defaultRateLimit: 777, defaultMaxSessions: 5 }) });
    assert.equal(accounts.maxSessions(user('a')), 5);
    assert.equal(accounts.maxSessions(user('a', { maxSessions: 1 })), 1);
    assert.equal(accounts.rate(user('a')), 777);
    assert.equal(accounts.rate(user('a', { rateLimit: 42 })), 42);
  });

  it("closes every session of a user and applies a changed rate to the user's bucket", () => {
    const accounts = new Accounts({ limits, settings: () => DEFAULT_SETTINGS });
    const log: string[] = [];
    accounts.reserve(user('u'))!.commit(closable(log, 's1'));
    accounts.reserve(user('u'))!.commit(closable(log, 's2'));
    accounts.reserve(user('v'))!.commit(closable(log, 'other'));
    accounts.userChanged(user('u', { rateLimit: 10 }));
    assert.equal(accounts.get('u')!.bucket.rate, 10);
    assert.equal(accounts.closeUser('u', 'disabled'), 2);
    assert.deepEqual(log, ['s1:disabled', 's2:disabled']);
  });
});

describe('UsageLedger', () => {
  const key = testKey();
  const seed = (): LocalStateStore => {
    const store = new LocalStateStore();
    store.seed([{ path: 'users[0]', command: { v: 1, op: 'user.create', id: 'u', publicKey: key.publicText, quota: 1000 } }]);
    return store;
  };

  it('reports counted bytes as usage.add batches and counts unreported bytes against the quota', async () => {
    const store = seed();
    const ledger = new UsageLedger({ store, handlerId: 'h1', logger: quietLogger, intervalMs: () => 60_000 });
    ledger.add('u', 'up', 600);
    ledger.add('u', 'down', 300);
    assert.equal(ledger.exhausted(store.view.users.get('u')!), false);
    ledger.add('u', 'down', 100);
    assert.equal(ledger.exhausted(store.view.users.get('u')!), true);
    await ledger.flush();
    assert.equal(ledger.unapplied('u'), 0);
    assert.equal(store.view.users.get('u')!.used, 1000);
    assert.deepEqual(store.view.users.usage('u'), { userId: 'u', up: 600, down: 400 });
    assert.equal(store.view.usageWatermark('h1'), 1);
  });

  it('retries a batch whose fate is unknown with the same sequence, and resumes after the watermark', async () => {
    const store = seed();
    const proposed: Command[] = [];
    let fail = true;
    const flaky = {
      view: store.view,
      read: () => store.read(),
      propose: (c: Command) => {
        proposed.push(c);
        if (fail) return Promise.reject(Object.assign(new Error('no leader'), { code: ErrorCode.NOT_LEADER }));
        return store.propose(c);
      },
    };
    const ledger = new UsageLedger({ store: flaky, handlerId: 'h1', logger: quietLogger, intervalMs: () => 60_000 });
    ledger.add('u', 'up', 10);
    await ledger.flush();
    ledger.add('u', 'up', 5);
    fail = false;
    await ledger.flush();
    await ledger.flush();
    const seqs = proposed.map((c) => (c.op === 'usage.add' ? [c.sequence, c.deltas[0]!.up] : []));
    assert.deepEqual(seqs, [[1, 10], [1, 10], [2, 5]]);
    assert.equal(store.view.users.get('u')!.used, 15);
    const resumed = new UsageLedger({ store, handlerId: 'h1', logger: quietLogger, intervalMs: () => 60_000 });
    resumed.add('u', 'down', 1);
    await resumed.flush();
    assert.equal(store.view.usageWatermark('h1'), 3);
  });
});

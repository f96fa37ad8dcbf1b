/**
 * Exit choice with real processes (ARCHITECTURE 5): three exits weighted 1/1/2 behind one
 * handler and one client, plus a fourth seeded as draining in the config. Shares follow the
 * weights over 4,000 streams and the configured-draining exit gets none; an exit set to
 * draining through the admin API takes no new streams and finishes the ones it has; a killed exit (SIGKILL) loses its share to the
 * others once the handler has noticed, and no OPEN fails after that.
 * Streams are counted where they land: each exit's own apfsds_exit_connect_seconds_count.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Cluster, withLogs } from '../support/e2e/cluster.ts';
import { contentSha256 } from '../support/e2e/content.ts';
import { adminCall, hasMetric, metricSum } from '../support/e2e/observe.ts';
import { startOrigin, type Origin } from '../support/e2e/origin.ts';
import { getThroughSocks } from '../support/e2e/socks5.ts';
import { pool, sleep, waitUntil } from '../support/e2e/wait.ts';

const EXITS = [
  { id: 'exit-a', weight: 1 },
  { id: 'exit-b', weight: 1 },
  { id: 'exit-c', weight: 2 },
];
/** A fourth exit, seeded as draining in the handler config: it must never be chosen. */
const DRAINING = { id: 'exit-d', weight: 1, state: 'draining' as const };
const STREAMS = 4_000;
/** Allowed distance from the weight's share, in percentage points (issue #3). */
const POINTS = 5;

describe('weighted exits', { timeout: 900_000 }, () => {
  let origin: Origin;
  let cluster: Cluster;

  before(async () => {
    origin = await startOrigin();
    cluster = await Cluster.start({ name: 'exits', exits: [...EXITS, DRAINING] });
  });

  after(async () => {
    await cluster?.stop();
    await origin?.close();
  });

  /** Successful egress connects so far on each named (live) exit. */
  async function opened(ids: string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const id of ids) out.set(id, metricSum(await cluster.exitMetrics(id), 'apfsds_exit_connect_seconds_count'));
    return out;
  }

  /** Runs `count` short transfers, `concurrency` at a time; returns the failures. */
  async function transfers(count: number, concurrency: number, tag: number): Promise<string[]> {
    const port = cluster.proxyPort();
    const results = await pool(count, concurrency, (i) => getThroughSocks(port, origin.port, `/bytes/256?seed=${tag + (i % 8)}`, 30_000));
    return results.flatMap((r, i) => {
      if (r instanceof Error) return [`#${i}: ${r.message}`];
      if (r.status !== 200 || r.sha256 !== contentSha256(256, tag + (i % 8))) return [`#${i}: status ${r.status}, ${r.bytes} bytes`];
      return [];
    });
  }

  function shares(before: Map<string, number>, after: Map<string, number>): { delta: Map<string, number>; total: number } {
    const delta = new Map<string, number>();
    let total = 0;
    for (const [id, n] of after) {
      const d = n - (before.get(id) ?? 0);
      delta.set(id, d);
      total += d;
    }
    return { delta, total };
  }

  function assertShare(delta: Map<string, number>, total: number, id: string, expected: number): void {
    const share = (100 * (delta.get(id) ?? 0)) / total;
    assert.ok(
      Math.abs(share - expected) <= POINTS,
      `${id} took ${share.toFixed(1)}% of ${total} streams, expected ${expected.toFixed(1)}% +- ${POINTS} (${JSON.stringify([...delta])})`,
    );
  }

  /** Waits until the handler reports exit `id` as taking streams (1) or not (0), when it exports the gauge. */
  async function exitUp(id: string, up: 0 | 1, timeoutMs: number): Promise<void> {
    const samples = await cluster.handlerMetrics();
    if (!hasMetric(samples, 'apfsds_handler_exit_up')) {
      await sleep(5_000);
      return;
    }
    await waitUntil(async () => metricSum(await cluster.handlerMetrics(), 'apfsds_handler_exit_up', { exit: id }) === up, {
      timeoutMs,
      intervalMs: 200,
      what: `the handler reporting apfsds_handler_exit_up{exit="${id}"} ${up}`,
    });
  }

  it(`shares over ${STREAMS} streams stay within ${POINTS} points of 25/25/50 for weights 1/1/2; a configured-draining exit gets none`, { timeout: 600_000 }, () =>
    withLogs(cluster, async () => {
      const ids = [...EXITS.map((e) => e.id), DRAINING.id];
      const before = await opened(ids);
      const failed = await transfers(STREAMS, 32, 10);
      assert.deepEqual(failed.slice(0, 10), [], `${failed.length} of ${STREAMS} streams failed`);
      const { delta, total } = shares(before, await opened(ids));
      assert.equal(total, STREAMS, `every stream lands on exactly one exit (${JSON.stringify([...delta])})`);
      assert.equal(delta.get(DRAINING.id), 0, `the exit seeded as draining took streams (${JSON.stringify([...delta])})`);
      assertShare(delta, total, 'exit-a', 25);
      assertShare(delta, total, 'exit-b', 25);
      assertShare(delta, total, 'exit-c', 50);
    }),
  );

  it('a draining exit takes no new streams and finishes the ones it carries', { timeout: 300_000 }, () =>
    withLogs(cluster, async () => {
      const held = 12;
      const size = 512 * 1024;
      const port = cluster.proxyPort();
      const old = pool(held, held, (i) => getThroughSocks(port, origin.port, `/hold/d${i}/${size}?seed=${3000 + i}`, 240_000));
      let released = false;
      try {
        await origin.waitHolding(held, 120_000);
        const carried = metricSum(await cluster.exitMetrics('exit-a'), 'apfsds_exit_streams_active');
        assert.ok(carried >= 1, `exit-a should carry some of the ${held} held streams before draining, has ${carried}`);

        const patched = await adminCall(cluster.adminPort, cluster.token, 'PATCH', '/admin/v1/exits/exit-a', { state: 'draining' });
        assert.equal(patched.status, 200, patched.text);
        await exitUp('exit-a', 0, 30_000);

        const ids = EXITS.map((e) => e.id);
        const before = await opened(ids);
        const failed = await transfers(300, 16, 20);
        assert.deepEqual(failed.slice(0, 10), [], `${failed.length} of 300 streams failed while exit-a drains`);
        const { delta, total } = shares(before, await opened(ids));
        assert.equal(delta.get('exit-a'), 0, `the draining exit took new streams: ${JSON.stringify([...delta])}`);
        assert.equal(total, 300);
        assertShare(delta, total, 'exit-b', 100 / 3);
        assertShare(delta, total, 'exit-c', 200 / 3);
        assert.ok(
          metricSum(await cluster.exitMetrics('exit-a'), 'apfsds_exit_streams_active') >= carried,
          'the draining exit kept its old streams',
        );

        origin.release();
        released = true;
        const results = await old;
        results.forEach((r, i) => {
          assert.ok(!(r instanceof Error), `held stream ${i}: ${r instanceof Error ? r.message : ''}`);
          assert.equal(r.status, 200);
          assert.equal(r.sha256, contentSha256(size, 3000 + i), `held stream ${i} arrived intact`);
        });
      } finally {
        if (!released) origin.release();
        await adminCall(cluster.adminPort, cluster.token, 'PATCH', '/admin/v1/exits/exit-a', { state: 'active' }).catch(() => undefined);
      }
      await exitUp('exit-a', 1, 30_000);
    }),
  );

  it('a killed exit loses its share to the others and, once detected, no OPEN fails', { timeout: 300_000 }, () =>
    withLogs(cluster, async () => {
      await cluster.exit('exit-b').proc.kill();
      await exitUp('exit-b', 0, 60_000);
      const ids = ['exit-a', 'exit-c'];
      const before = await opened(ids);
      const count = 600;
      const failed = await transfers(count, 16, 30);
      assert.deepEqual(failed.slice(0, 10), [], `${failed.length} of ${count} streams failed after exit-b died`);
      const { delta, total } = shares(before, await opened(ids));
      assert.equal(total, count, `the live exits carried every stream (${JSON.stringify([...delta])})`);
      assertShare(delta, total, 'exit-a', 100 / 3);
      assertShare(delta, total, 'exit-c', 200 / 3);
    }),
  );
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { agreedLeader, nodeStatus, ProcessCluster, type RaftProcess } from './cluster.ts';
import { Writers } from './writers.ts';

async function dump(p: RaftProcess, prefix: string): Promise<Record<string, string>> {
  const r = await fetch(`http://127.0.0.1:${p.httpPort}/dump?prefix=${prefix}`, { signal: AbortSignal.timeout(10_000) });
  assert.equal(r.status, 200, `dump on ${p.id}`);
  return ((await r.json()) as { values: Record<string, string> }).values;
}

describe('a raft cluster of three real processes', () => {
  it('loses no acknowledged write when the leader is killed; the killed node rejoins through a snapshot', async () => {
    const c = await ProcessCluster.start({
      name: 'kill',
      size: 3,
      tickMs: 50,
      electionTicks: 10,
      // Small snapshots and margins, so the leader compacts past the killed node's log.
      snapshotThreshold: 200,
      compactionMargin: 20,
      segmentBytes: 64 * 1024,
      timeoutMs: 3000,
    });
    const w = new Writers(c, { valueBytes: 32 });
    let load: Promise<void> | undefined;
    try {
      const leader = await agreedLeader(c);
      load = w.run(6, 10);
      await w.until(() => w.acked.size >= 300, 30_000, '300 acknowledged writes');
      const ackedBeforeKill = w.acked.size;
      await leader.kill9();

      const next = await agreedLeader(c, 20_000);
      assert.notEqual(next.id, leader.id, 'a surviving node leads');
      await w.until(() => w.acked.size >= ackedBeforeKill + 1200, 45_000, '1200 more acknowledged writes');
      w.stop();
      await load;
      load = undefined;

      const survivorStats = (await nodeStatus(next)).stats;
      const back = await c.startNode(leader.id);
      const deadline = Date.now() + 30_000;
      let st = (await nodeStatus(back)).stats;
      while (!(st.snapshotsInstalled >= 1 && st.appliedIndex >= survivorStats.commitIndex) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        st = (await nodeStatus(back)).stats;
      }
      assert.ok(st.snapshotsInstalled >= 1, `${back.id} caught up through a snapshot (stats: ${JSON.stringify(st)})`);
      assert.ok(st.appliedIndex >= survivorStats.commitIndex, `${back.id} applied everything committed`);
      assert.ok(back.records('Raft snapshot installed from the leader').length >= 1);

      for (const p of c.live()) {
        const values = await dump(p, 'w-');
        let missing = 0;
        for (const [k, v] of w.acked) if (values[k] !== v) missing++;
        assert.equal(missing, 0, `${p.id} holds all ${w.acked.size} acknowledged writes`);
      }
    } catch (err) {
      w.stop();
      const tails = [...c.procs.values()].map((p) => p.tail(15)).join('\n');
      throw new Error(`${(err as Error).message}\n${tails}`);
    } finally {
      w.stop();
      await load;
      await c.stop();
    }
  });
});

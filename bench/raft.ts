/**
 * `npm run bench -- raft [--json] [--seconds N] [--kills N] [--snapshot-threshold N]`: the raft control plane on real
 * processes (scripts/raft-node.ts, KV demo) on 127.0.0.1, 256-byte values, fsync on, 1,000
 * proposals in flight (10 HTTP batches of 100 puts each, sent to the leader):
 *
 * - baseline: the WAL alone (openRaftStorage), 1,000 single-entry appends in flight, each
 *   resolved after fdatasync; what group commit gives before any consensus work;
 * - a single-node cluster: committed writes/s, p50/p99 commit latency (propose to apply,
 *   measured inside the node), against the WAL baseline;
 * - a 3-node cluster: the same, against the single node;
 * - failover: kill -9 the leader of the 3-node cluster, then time until a write sent to a
 *   survivor commits; median over a few kills (the killed node is restarted in between),
 *   against the configured election timeout.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRaftStorage } from '../handler/raft/storage/index.ts';
import { EntryType } from '../handler/raft/types.ts';
import { agreedLeader, nodeStatus, ProcessCluster, type RaftProcess } from '../test/handler/raft/process/cluster.ts';
import { Writers } from '../test/handler/raft/process/writers.ts';
import process from 'node:process';
import { median, percentile, type Reporter } from './report.ts';

const VALUE_BYTES = 256;
const IN_FLIGHT_BATCHES = 10;
const BATCH = 100;
const TICK_MS = 50;
const ELECTION_TICKS = 10;

function arg(argv: string[], name: string, fallback: number): number {
  const i = argv.indexOf(name);
  const v = i >= 0 ? Number(argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** CPU seconds (user + system) a process has used, from /proc (Linux); NaN elsewhere. */
function cpuSeconds(pid: number | undefined): number {
  const path = `/proc/${pid}/stat`;
  if (pid === undefined || !existsSync(path)) return NaN;
  // Fields after the ")" that ends the command name: utime and stime are the 12th and 13th.
  const fields = readFileSync(path, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** WAL appends/s with 1,000 single-entry appends in flight. */
async function storageBaseline(seconds: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'apfsds-bench-wal-'));
  try {
    const { storage } = await openRaftStorage({ dir });
    const data = new Uint8Array(VALUE_BYTES + 16).fill(7);
    let index = 0;
    let done = 0;
    const end = performance.now() + seconds * 1000;
    const worker = async (): Promise<void> => {
      while (performance.now() < end) {
        index++;
        await storage.append([{ term: 1, index, type: EntryType.Normal, data }]);
        done++;
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: IN_FLIGHT_BATCHES * BATCH }, worker));
    const rate = done / ((performance.now() - started) / 1000);
    await storage.close();
    return rate;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What one load run measured. */
interface Measured {
  rate: number;
  p50: number;
  p99: number;
  /** CPU microseconds per committed write: the leader's, and the followers' average. */
  leaderCpuUs: number;
  followerCpuUs: number;
}

/** Committed writes/s, latency percentiles (ms) and CPU per write of a cluster under the standard load. */
async function measure(c: ProcessCluster, seconds: number, prefix: string): Promise<Measured> {
  let leader = await agreedLeader(c);
  const w = new Writers(c, { prefix, valueBytes: VALUE_BYTES });
  w.target = () => leader;
  const load = w.run(IN_FLIGHT_BATCHES, BATCH);
  // Warm up (JIT, first segment, links), then count acknowledgements in a fixed window.
  await sleep(1500);
  const followers = c.live().filter((p) => p !== leader);
  const cpu0 = [leader, ...followers].map((p) => cpuSeconds(p.child.pid));
  const ackedAt0 = w.acked.size;
  const lat0 = w.latenciesUs.length;
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const acked = w.acked.size - ackedAt0;
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = [leader, ...followers].map((p, i) => cpuSeconds(p.child.pid) - cpu0[i]!);
  const lats = w.latenciesUs.slice(lat0).map((us) => us / 1000);
  w.stop();
  await load;
  leader = await agreedLeader(c);
  const perWrite = (sec: number): number => (sec * 1e6) / Math.max(1, acked);
  const followerCpu = cpu.slice(1);
  return {
    rate: acked / elapsed,
    p50: lats.length > 0 ? median(lats) : NaN,
    p99: lats.length > 0 ? percentile(lats, 99) : NaN,
    leaderCpuUs: perWrite(cpu[0]!),
    followerCpuUs: followerCpu.length === 0 ? NaN : perWrite(followerCpu.reduce((a, b) => a + b, 0) / followerCpu.length),
  };
}

/** Kills the leader and times the first write that commits through a survivor. */
async function failoverOnce(c: ProcessCluster, n: number): Promise<number> {
  const leader = await agreedLeader(c);
  const survivors = c.live().filter((p) => p !== leader);
  const killedAt = performance.now();
  await leader.kill9();
  let elapsed = NaN;
  for (let attempt = 0; attempt < 2000; attempt++) {
    const p = survivors[attempt % survivors.length]!;
    try {
      const r = await fetch(`http://127.0.0.1:${p.httpPort}/kv/failover-${n}-${attempt}`, {
        method: 'PUT',
        body: 'x',
        signal: AbortSignal.timeout(5000),
      });
      if (r.status === 200 && ((await r.json()) as { ok: boolean }).ok) {
        elapsed = performance.now() - killedAt;
        break;
      }
    } catch (err) {
      // A write forwarded to the dead leader just before its links noticed is lost: retry.
      if (process.env['APFSDS_BENCH_DEBUG'] === '1') console.error(`probe ${n}/${attempt} via ${p.id}: ${(err as Error).message}`);
    }
    await sleep(5);
  }
  // Bring the node back and let it catch up before the next kill.
  const back: RaftProcess = await c.startNode(leader.id);
  const target = (await nodeStatus(survivors[0]!)).stats.commitIndex;
  for (let i = 0; i < 300; i++) {
    if ((await nodeStatus(back)).stats.appliedIndex >= target) break;
    await sleep(100);
  }
  return elapsed;
}

/** Runs the scenario. */
export async function run(reporter: Reporter, argv: string[]): Promise<void> {
  const seconds = arg(argv, '--seconds', 5);
  const kills = arg(argv, '--kills', 3);
  const scenario = 'raft';
  // The config default; a large value measures the write path without snapshot stalls.
  const snapshotThreshold = arg(argv, '--snapshot-threshold', 10_000);
  const common = { tickMs: TICK_MS, electionTicks: ELECTION_TICKS, timeoutMs: 10_000, logLevel: 'warn', snapshotThreshold };

  const wal = await storageBaseline(Math.min(seconds, 3));
  reporter.report({ scenario, metric: 'wal appends/s', value: wal, unit: 'entries/s' });

  const single = await ProcessCluster.start({ name: 'bench1', size: 1, ...common });
  let one;
  try {
    one = await measure(single, seconds, 's-');
  } finally {
    await single.stop();
  }
  reporter.report({ scenario, metric: '1 node writes/s', value: one.rate, unit: 'writes/s', baseline: wal });
  reporter.report({ scenario, metric: '1 node p50 commit', value: one.p50, unit: 'ms' });
  reporter.report({ scenario, metric: '1 node p99 commit', value: one.p99, unit: 'ms' });
  reporter.report({ scenario, metric: '1 node cpu/write', value: one.leaderCpuUs, unit: 'us' });

  const three = await ProcessCluster.start({ name: 'bench3', size: 3, ...common });
  try {
    const r = await measure(three, seconds, 't-');
    reporter.report({ scenario, metric: '3 nodes writes/s', value: r.rate, unit: 'writes/s', baseline: one.rate });
    reporter.report({ scenario, metric: '3 nodes p50 commit', value: r.p50, unit: 'ms', baseline: one.p50 });
    reporter.report({ scenario, metric: '3 nodes p99 commit', value: r.p99, unit: 'ms', baseline: one.p99 });
    reporter.report({ scenario, metric: '3 nodes leader cpu/write', value: r.leaderCpuUs, unit: 'us', baseline: one.leaderCpuUs });
    reporter.report({ scenario, metric: '3 nodes follower cpu/write', value: r.followerCpuUs, unit: 'us', baseline: one.leaderCpuUs });
    const times: number[] = [];
    for (let k = 0; k < kills; k++) times.push(await failoverOnce(three, k));
    const ok = times.filter((t) => Number.isFinite(t));
    reporter.report({
      scenario,
      metric: 'kill leader->next write',
      value: ok.length > 0 ? median(ok) : NaN,
      unit: 'ms',
      baseline: TICK_MS * ELECTION_TICKS,
    });
  } finally {
    await three.stop();
  }
}

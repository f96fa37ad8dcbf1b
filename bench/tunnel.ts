/**
 * `npm run bench -- tunnel [--json]`: the data plane with every role in its own process
 * (client -> handler -> exit, as `apfsds client|handler|exit --config` start them, from the
 * compiled dist/ that `npm start` and the deploy artifacts run), against
 * direct loopback TCP measured in the same run to the same far-end process (bench-peer.ts):
 *   - single-stream bulk throughput to a sink;
 *   - 64 B echo round trip after warm-up, p50 and p99, p50 of the first 1,000 round trips, and
 *     p50 through three bare TCP relays (the cost of the
 *     process hops alone);
 *   - new streams per second (SOCKS5 CONNECT + 1-byte echo + close, 16 in flight);
 *   - RSS of handler, exit and client with 10,000 concurrent idle streams (baseline: idle RSS);
 *   - CPU seconds each role spends per GiB of bulk transfer (where the time goes);
 *   - the design's bound: the throughput this machine's cores allow for four loopback TCP hops
 *     (at the direct run's CPU cost) and four raw ChaCha20-Poly1305 passes, with no other work.
 * Then the issue #3 targets as results whose ratio says how far from the target the run is
 * (reported, never asserted): throughput >= 15% of direct, echo p50 <= direct + 0.3 ms,
 * handler RSS <= 250 MiB at 10k idle streams. About 1-2 minutes.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { availableParallelism } from 'node:os';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { nativeCryptoBackend, rawNativeSeal } from '../shared/runtime/native-crypto.ts';
import { Cluster } from '../test/support/e2e/cluster.ts';
import { cpuSeconds, rssBytes } from '../test/support/e2e/observe.ts';
import { spawnRole, type RoleProcess } from '../test/support/e2e/role-process.ts';
import { socks5Connect } from '../test/support/e2e/socks5.ts';
import { pool, sleep, within } from '../test/support/e2e/wait.ts';
import { percentile, type Reporter } from './report.ts';

const BULK_BYTES = 1024 * 1024 * 1024;
const BULK_ROUNDS = 2;
// V8 needs a few thousand round trips to optimise the small-message path: from a fresh start,
// per 1,000 round trips the tunnel's p50 went 0.84, 0.48, 0.38, 0.33 ms and then held at
// 0.31-0.32 (docs/benchmarks.md). Here the bulk runs come first and warm much of it already.
// The tunnel's first 1,000 round trips are reported on their own, then every path gets 5,000
// more before anything is measured.
const ECHO_COLD = 1_000;
const ECHO_WARMUP = 5_000;
// Measured rounds are interleaved across the three paths in blocks, so a change in how the
// scheduler places the processes during the run reaches all three alike.
const ECHO_BLOCKS = 6;
const ECHO_BLOCK_ROUNDS = 500;
const STREAMS_TOTAL = 2_000;
const STREAMS_IN_FLIGHT = 16;
const IDLE_STREAMS = 10_000;
const IDLE_OPEN_IN_FLIGHT = 200;
const MiB = 1024 * 1024;

type Dial = () => Promise<net.Socket>;

function dialDirect(port: number): Dial {
  return () =>
    within(
      new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
        s.once('error', reject);
      }),
      20_000,
      `connect to ${port}`,
    );
}

function dialTunnel(proxyPort: number, port: number): Dial {
  return () => socks5Connect(proxyPort, '127.0.0.1', port, 20_000);
}

/** Sends `bytes` to the sink, half-closes, waits for its count; returns bytes per second. */
async function bulk(dial: Dial, bytes: number): Promise<number> {
  const socket = await dial();
  const chunk = Buffer.alloc(256 * 1024, 0x5a);
  const reply: Buffer[] = [];
  const answered = new Promise<void>((resolve, reject) => {
    socket.on('data', (c: Buffer) => reply.push(c));
    socket.once('end', () => resolve());
    socket.once('error', reject);
  });
  socket.resume();
  const started = performance.now();
  let sent = 0;
  while (sent < bytes) {
    const n = Math.min(chunk.length, bytes - sent);
    sent += n;
    if (!socket.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
      await new Promise<void>((resolve) => socket.once('drain', () => resolve()));
    }
  }
  socket.end();
  await within(answered, 300_000, 'the sink count');
  const seconds = (performance.now() - started) / 1000;
  socket.destroy();
  const counted = Number(Buffer.concat(reply).readBigUInt64BE(0));
  if (counted !== bytes) throw new Error(`The sink counted ${counted} bytes, expected ${bytes}`);
  return bytes / seconds;
}

/** A connection that times 64-byte round trips: `rounds(n)` returns n latencies in ms. */
async function echoPath(dial: Dial): Promise<{ rounds(n: number): Promise<number[]>; close(): void }> {
  const socket = await dial();
  socket.setNoDelay(true);
  const payload = Buffer.alloc(64, 0x61);
  let pending = 0;
  let wake: (() => void) | null = null;
  let fail: ((err: Error) => void) | null = null;
  socket.on('data', (c: Buffer) => {
    pending -= c.length;
    if (pending <= 0 && wake !== null) {
      const w = wake;
      wake = null;
      w();
    }
  });
  // A reset mid-round fails that round (and the run) with its own error, not an unhandled one.
  socket.on('error', (err) => fail?.(err));
  socket.resume();
  return {
    async rounds(n) {
      const times: number[] = [];
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        pending = payload.length;
        const got = new Promise<void>((resolve, reject) => {
          wake = resolve;
          fail = reject;
        });
        socket.write(payload);
        await within(got, 10_000, 'an echo');
        times.push(performance.now() - t0);
      }
      return times;
    },
    close: () => socket.destroy(),
  };
}

/** Opens, uses (1-byte echo) and closes `total` streams, `inFlight` at a time; returns streams per second. */
async function streamRate(dial: Dial, total: number, inFlight: number): Promise<number> {
  const one = async (): Promise<void> => {
    const s = await dial();
    s.setNoDelay(true);
    await within(
      new Promise<void>((resolve, reject) => {
        s.once('data', () => resolve());
        s.once('error', reject);
        s.resume();
        s.write('x');
      }),
      20_000,
      'a 1-byte echo',
    );
    s.destroy();
  };
  await pool(50, inFlight, one); // warm-up
  const started = performance.now();
  const results = await pool(total, inFlight, one);
  const seconds = (performance.now() - started) / 1000;
  const failed = results.filter((r) => r instanceof Error);
  if (failed.length > 0) throw new Error(`${failed.length} of ${total} streams failed: ${(failed[0] as Error).message}`);
  return total / seconds;
}

/**
 * CPU seconds per GiB (best of 3 rounds) of the cheaper of two ChaCha20-Poly1305 seals of
 * 64 KiB messages, each as cheap as its library allows: node:crypto's createCipheriv (which
 * returns new buffers), and the native backend's sealInto (libsodium where it loads) into a
 * reused buffer. The bound uses the cheaper, so it is never lowered by our own choice.
 */
function aeadSecondsPerGiB(): { seconds: number; by: string } {
  const key = randomBytes(32);
  const nonce = Buffer.alloc(12);
  const message = randomBytes(64 * 1024);
  const out = new Uint8Array(message.length + 16);
  const perRound = 2048; // 128 MiB
  const seals: Array<[string, () => void]> = [['node:crypto', () => rawNativeSeal(key, nonce, message)]];
  if (nativeCryptoBackend !== null) {
    const { aead, provider } = nativeCryptoBackend;
    seals.push([provider.split(' ')[0]!, () => aead.sealInto(key, nonce, null, message, out, 0)]);
  }
  let best = { seconds: Infinity, by: '' };
  for (let round = 0; round < 3; round++) {
    for (const [by, seal] of seals) {
      const t0 = process.cpuUsage();
      for (let i = 0; i < perRound; i++) {
        nonce.writeUInt32LE(i, 4);
        seal();
      }
      const t = process.cpuUsage(t0);
      const seconds = ((t.user + t.system) / 1e6) * ((1024 * MiB) / (perRound * message.length));
      if (seconds < best.seconds) best = { seconds, by };
    }
  }
  return best;
}

/** Starts `hops` bare relays (bench-relay.ts) chained in front of `target`; returns the first one's port. */
async function relayChain(target: number, hops: number, started: RoleProcess[]): Promise<number> {
  const entry = fileURLToPath(new URL('../test/support/e2e/bench-relay.ts', import.meta.url));
  let port = target;
  for (let i = 0; i < hops; i++) {
    const relay = spawnRole({ name: `bench-relay-${i}`, args: [String(port)], entry });
    started.push(relay);
    port = (await relay.waitForLine((l) => typeof l.json?.['port'] === 'number', 60_000, 'the relay port')).json!['port'] as number;
  }
  return port;
}

function median(values: number[]): number {
  return percentile(values, 50);
}

export async function run(reporter: Reporter, _argv: string[]): Promise<void> {
  const peerEntry = fileURLToPath(new URL('../test/support/e2e/bench-peer.ts', import.meta.url));
  const peer: RoleProcess = spawnRole({ name: 'bench-peer', args: [], entry: peerEntry });
  let cluster: Cluster | undefined;
  const idle: net.Socket[] = [];
  const relays: RoleProcess[] = [];
  try {
    const ports = (await peer.waitForLine((l) => l.json?.['sink'] !== undefined, 60_000, 'the peer ports')).json as { sink: number; echo: number; idle: number };
    cluster = await Cluster.start({
      name: 'bench',
      fromBuild: true,
      handler: { config: { limits: { maxStreamsPerSession: 8192 }, links: { poolSize: 1, maxStreamsPerLink: 16_384 } } },
      exits: [{ id: 'exit-a', config: { limits: { maxStreamsPerLink: 16_384 } } }],
    });
    const proxyPort = cluster.proxyPort();
    const pids = {
      handler: cluster.handler!.pid,
      exit: cluster.exit('exit-a').proc.pid,
      client: cluster.clients.get('alice')!.proc.pid,
    };

    // Bulk throughput: interleaved rounds, best of each (a noisy neighbour hits both alike).
    let direct = 0;
    let tunnel = 0;
    await bulk(dialTunnel(proxyPort, ports.sink), 64 * MiB); // warm-up
    const cpu = { client: 0, handler: 0, exit: 0 };
    let directCpu = 0;
    for (let i = 0; i < BULK_ROUNDS; i++) {
      const self0 = process.cpuUsage();
      const peer0 = cpuSeconds(peer.pid) ?? 0;
      direct = Math.max(direct, await bulk(dialDirect(ports.sink), BULK_BYTES));
      const self1 = process.cpuUsage(self0);
      directCpu += (self1.user + self1.system) / 1e6 + (cpuSeconds(peer.pid) ?? 0) - peer0;
      const cpu0 = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid) ?? 0]));
      tunnel = Math.max(tunnel, await bulk(dialTunnel(proxyPort, ports.sink), BULK_BYTES));
      for (const k of ['client', 'handler', 'exit'] as const) cpu[k] += (cpuSeconds(pids[k]) ?? 0) - (cpu0[k] ?? 0);
    }
    reporter.report({ scenario: 'tunnel', metric: 'bulk throughput', value: tunnel / MiB, unit: 'MiB/s', baseline: direct / MiB });
    const gib = (BULK_ROUNDS * BULK_BYTES) / (1024 * MiB);
    for (const k of ['client', 'handler', 'exit'] as const) {
      reporter.report({ scenario: 'tunnel', metric: `${k} CPU per GiB`, value: cpu[k] / gib, unit: 's' });
    }
    // What the design costs at the least, with no WebSocket, mux or JavaScript overhead at all:
    // four loopback TCP hops (app -> client -> handler -> exit -> sink) at the direct run's CPU
    // per hop, plus four ChaCha20-Poly1305 passes (client seals, handler opens and seals, exit
    // opens) at the cheaper raw seal (aeadSecondsPerGiB), spread perfectly over this machine's cores.
    const tcpHop = directCpu / gib;
    const aead = aeadSecondsPerGiB();
    const aeadPass = aead.seconds;
    const floorCpu = 4 * tcpHop + 4 * aeadPass;
    const bound = (availableParallelism() / floorCpu) * 1024 * MiB;
    reporter.report({ scenario: 'tunnel', metric: 'direct CPU per GiB (sender + sink)', value: tcpHop, unit: 's' });
    reporter.report({ scenario: 'tunnel', metric: `AEAD CPU per GiB (raw ${aead.by}, 64 KiB)`, value: aeadPass, unit: 's' });
    reporter.report({ scenario: 'tunnel', metric: `design bound (${availableParallelism()} cores)`, value: bound / MiB, unit: 'MiB/s', baseline: direct / MiB });

    // Echo round trip: direct, through the tunnel, and through three bare Node TCP relays
    // (client, handler, exit doing nothing but pipe) in front of the same echo server, the
    // latency the design's process hops cost before any work.
    const echoPaths: Array<{ close(): void }> = [];
    const open = async (dial: Dial) => {
      const path = await echoPath(dial);
      echoPaths.push(path);
      return path;
    };
    const rtt = { direct: [] as number[], tunnel: [] as number[], relays: [] as number[] };
    let cold: number[];
    try {
      const paths = {
        direct: await open(dialDirect(ports.echo)),
        tunnel: await open(dialTunnel(proxyPort, ports.echo)),
        relays: await open(dialDirect(await relayChain(ports.echo, 3, relays))),
      };
      cold = await paths.tunnel.rounds(ECHO_COLD);
      for (const path of Object.values(paths)) await path.rounds(ECHO_WARMUP);
      for (let block = 0; block < ECHO_BLOCKS; block++) {
        for (const name of ['direct', 'tunnel', 'relays'] as const) rtt[name].push(...(await paths[name].rounds(ECHO_BLOCK_ROUNDS)));
      }
    } finally {
      for (const path of echoPaths) path.close();
    }
    const p50 = { direct: median(rtt.direct), tunnel: median(rtt.tunnel) };
    const p99 = { direct: percentile(rtt.direct, 99), tunnel: percentile(rtt.tunnel, 99) };
    reporter.report({ scenario: 'tunnel', metric: 'echo 64 B p50', value: p50.tunnel, unit: 'ms', baseline: p50.direct });
    reporter.report({ scenario: 'tunnel', metric: 'echo 64 B p99', value: p99.tunnel, unit: 'ms', baseline: p99.direct });
    reporter.report({ scenario: 'tunnel', metric: `echo 64 B p50, first ${ECHO_COLD} round trips`, value: median(cold), unit: 'ms', baseline: p50.direct });
    const relayP50 = median(rtt.relays);
    reporter.report({ scenario: 'tunnel', metric: 'echo 64 B p50 via 3 bare relays', value: relayP50, unit: 'ms', baseline: p50.direct });
    for (const r of relays.splice(0)) await r.stop();

    // New streams per second.
    const directRate = await streamRate(dialDirect(ports.echo), STREAMS_TOTAL, STREAMS_IN_FLIGHT);
    const tunnelRate = await streamRate(dialTunnel(proxyPort, ports.echo), STREAMS_TOTAL, STREAMS_IN_FLIGHT);
    reporter.report({ scenario: 'tunnel', metric: 'new streams', value: tunnelRate, unit: 'streams/s', baseline: directRate });

    // 10,000 idle streams.
    await sleep(2_000);
    const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, rssBytes(pid) ?? 0])) as Record<keyof typeof pids, number>;
    const opened = await pool(IDLE_STREAMS, IDLE_OPEN_IN_FLIGHT, async () => {
      const s = await socks5Connect(proxyPort, '127.0.0.1', ports.idle, 60_000);
      s.on('error', () => {});
      idle.push(s);
    });
    const failed = opened.filter((r) => r instanceof Error);
    if (failed.length > 0) throw new Error(`${failed.length} of ${IDLE_STREAMS} idle streams failed: ${(failed[0] as Error).message}`);
    await sleep(3_000);
    const at = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, rssBytes(pid) ?? 0])) as Record<keyof typeof pids, number>;
    for (const role of ['handler', 'exit', 'client'] as const) {
      reporter.report({ scenario: 'tunnel', metric: `${role} RSS 10k idle`, value: at[role] / MiB, unit: 'MiB', baseline: before[role] / MiB });
    }

    // Targets of issue #3 (ratio >= 1 means met for the first, <= 1 for the others).
    const throughputShare = tunnel / direct;
    const addedP50 = p50.tunnel - p50.direct;
    reporter.report({ scenario: 'tunnel target', metric: 'throughput/direct>=.15', value: throughputShare, unit: 'ratio', baseline: 0.15 });
    reporter.report({ scenario: 'tunnel target', metric: 'p50 added<=0.3ms', value: addedP50, unit: 'ms', baseline: 0.3 });
    reporter.report({ scenario: 'tunnel target', metric: 'handler RSS<=250MiB', value: at.handler / MiB, unit: 'MiB', baseline: 250 });
    console.error(
      `tunnel targets: throughput ${(100 * throughputShare).toFixed(1)}% of direct (>= 15%: ${throughputShare >= 0.15 ? 'met' : 'MISSED'}; ` +
        `the design's bound on this machine is ${((100 * bound) / direct).toFixed(1)}%); ` +
        `echo p50 +${addedP50.toFixed(3)} ms (<= 0.3 ms: ${addedP50 <= 0.3 ? 'met' : 'MISSED'}; three bare relays add ${(relayP50 - p50.direct).toFixed(3)} ms); ` +
        `handler RSS ${(at.handler / MiB).toFixed(0)} MiB at 10k idle streams (<= 250 MiB: ${at.handler / MiB <= 250 ? 'met' : 'MISSED'})`,
    );
  } catch (err) {
    if (cluster !== undefined) console.error(cluster.tails());
    throw err;
  } finally {
    for (const s of idle) s.destroy();
    for (const r of relays) await r.stop();
    await cluster?.stop();
    await peer.stop();
  }
}

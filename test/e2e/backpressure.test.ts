/**
 * Flow control end to end with real processes (ARCHITECTURE 3, issue #3 item 5): an app that
 * stops reading for 30 s while the origin offers 1 GiB must not make the client, the handler
 * or the exit buffer it. Each one's resident memory (Linux /proc VmRSS, sampled every 250 ms
 * during the stall) grows by less than 64 MiB over its level before the transfer, and the
 * whole GiB arrives intact once the app reads again.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type net from 'node:net';
import { after, before, describe, it, type TestContext } from 'node:test';
import { Cluster, withLogs } from '../support/e2e/cluster.ts';
import { contentSha256 } from '../support/e2e/content.ts';
import { CAN_SAMPLE_RSS, mib, rssBytes, RssSampler } from '../support/e2e/observe.ts';
import { startOrigin, type Origin } from '../support/e2e/origin.ts';
import { getThroughSocks, socks5Connect } from '../support/e2e/socks5.ts';
import { deferred, sleep, within } from '../support/e2e/wait.ts';

const GiB = 1024 * 1024 * 1024;
const STALL_MS = 30_000;
const LIMIT = 64 * 1024 * 1024;
/** The app reads this much before it stops reading. */
const READ_BEFORE_STALL = 8 * 1024 * 1024;

function note(t: TestContext, message: string): void {
  const diag = (t as { diagnostic?: (m: string) => void }).diagnostic;
  if (typeof diag === 'function') diag.call(t, message);
  else console.log(`# ${message}`);
}

/** A GET whose reader can be paused; hashes the body as it comes. */
function pausableGet(socket: net.Socket, path: string, pauseAt: number) {
  const hash = createHash('sha256');
  const paused = deferred<void>();
  const done = deferred<{ status: number; bytes: number; sha256: string }>();
  let head: Buffer | null = Buffer.alloc(0);
  let status = 0;
  let bytes = 0;
  let stopped = false;
  const take = (body: Buffer): void => {
    bytes += body.length;
    hash.update(body);
    if (!stopped && bytes >= pauseAt) {
      stopped = true;
      socket.pause();
      paused.resolve();
    }
  };
  socket.on('data', (chunk: Buffer) => {
    if (head === null) return take(chunk);
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head.subarray(0, end).toString('latin1'))?.[1] ?? 0);
    const body = head.subarray(end + 4);
    head = null;
    take(body);
  });
  socket.once('end', () => done.resolve({ status, bytes, sha256: hash.digest('hex') }));
  socket.once('close', () => done.reject(new Error(`closed before the end of the response (${bytes} body bytes)`)));
  socket.once('error', (err) => done.reject(err));
  socket.write(`GET ${path} HTTP/1.1\r\nHost: origin\r\nConnection: close\r\n\r\n`);
  socket.resume();
  done.promise.catch(() => undefined);
  return { paused: paused.promise, done: done.promise, resume: () => socket.resume(), bytes: () => bytes };
}

describe('a stalled reader does not make any hop buffer', { skip: CAN_SAMPLE_RSS ? false : 'needs /proc/<pid>/status (Linux)', timeout: 900_000 }, () => {
  let origin: Origin;
  let cluster: Cluster;

  before(async () => {
    origin = await startOrigin();
    cluster = await Cluster.start({ name: 'backpressure' });
  });

  after(async () => {
    await cluster?.stop();
    await origin?.close();
  });

  it('1 GiB offered to a reader stalled 30 s: client, handler and exit each grow < 64 MiB; the GiB then arrives intact', { timeout: 800_000 }, (t) =>
    withLogs(cluster, async () => {
      const proxyPort = cluster.proxyPort();
      // Warm every code path (and the JIT) with the same kind of transfer first.
      const warm = await getThroughSocks(proxyPort, origin.port, `/bytes/${32 * 1024 * 1024}?seed=3`, 120_000);
      assert.equal(warm.sha256, contentSha256(32 * 1024 * 1024, 3));
      await sleep(1_000);

      const pids = {
        client: cluster.clients.get('alice')!.proc.pid,
        handler: cluster.handler!.pid,
        exit: cluster.exit('exit-a').proc.pid,
      };
      const baseline = new Map(Object.entries(pids).map(([name, pid]) => [name, rssBytes(pid) ?? 0]));
      const expected = contentSha256(GiB, 77);

      const socket = await socks5Connect(proxyPort, '127.0.0.1', origin.port, 30_000);
      try {
        const get = pausableGet(socket, `/bytes/${GiB}?seed=77`, READ_BEFORE_STALL);
        await within(get.paused, 120_000, `the first ${READ_BEFORE_STALL} bytes`);
        const sampler = new RssSampler(pids, 250);
        await sleep(STALL_MS);
        const peak = sampler.stop();
        const readDuringStall = get.bytes();

        const lines = Object.keys(pids).map((name) => {
          const grew = (peak.get(name) ?? 0) - (baseline.get(name) ?? 0);
          return { name, grew, text: `${name}: ${mib(baseline.get(name) ?? 0)} -> peak ${mib(peak.get(name) ?? 0)} (+${mib(grew)})` };
        });
        note(t, `RSS during the ${STALL_MS / 1000} s stall: ${lines.map((l) => l.text).join('; ')}`);
        for (const l of lines) assert.ok(l.grew < LIMIT, `${l.text}: grew by ${mib(l.grew)}, limit ${mib(LIMIT)}`);
        assert.ok(readDuringStall < GiB, 'the reader really stalled before the end');

        get.resume();
        const r = await within(get.done, 600_000, 'the rest of the GiB');
        assert.equal(r.status, 200);
        assert.equal(r.bytes, GiB);
        assert.equal(r.sha256, expected, 'the GiB arrives intact after the stall');
      } finally {
        socket.destroy();
      }
    }),
  );
});

/**
 * The data plane end to end with real processes and real curl: client (local SOCKS5 + HTTP
 * proxy) -> handler -> exit -> an origin on 127.0.0.1, on the runtime running this file.
 * Bodies of 1 KiB, 10 MiB and 100 MiB through socks5h://, HTTP CONNECT and plain HTTP
 * forwarding arrive intact (sha256), an upload reaches the sink intact, and 200 transfers
 * held open at the same moment all complete.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Cluster, withLogs } from '../support/e2e/cluster.ts';
import { contentSha256 } from '../support/e2e/content.ts';
import { curl, describeCurl, SKIP_WITHOUT_CURL, type ProxyMode } from '../support/e2e/curl.ts';
import { startOrigin, type Origin } from '../support/e2e/origin.ts';
import { getThroughSocks } from '../support/e2e/socks5.ts';
import { pool } from '../support/e2e/wait.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const SIZES: Array<[number, string]> = [
  [1 * KiB, '1 KiB'],
  [10 * MiB, '10 MiB'],
  [100 * MiB, '100 MiB'],
];
const MODES: Array<[ProxyMode, string]> = [
  ['socks5h', 'socks5h:// (name resolved at the exit)'],
  ['http-connect', 'HTTP CONNECT (-x http:// --proxytunnel)'],
  ['http-plain', 'plain HTTP forwarding (-x http://)'],
];
const CONCURRENT = 200;

describe('curl through the local proxy reaches the origin intact', { skip: SKIP_WITHOUT_CURL, timeout: 600_000 }, () => {
  let origin: Origin;
  let cluster: Cluster;

  before(async () => {
    origin = await startOrigin();
    cluster = await Cluster.start({ name: 'transfer' });
  });

  after(async () => {
    await cluster?.stop();
    await origin?.close();
  });

  let seed = 100;
  for (const [mode, label] of MODES) {
    for (const [size, sizeLabel] of SIZES) {
      const s = seed++;
      it(`${label}: a ${sizeLabel} body arrives with the origin's sha256`, { timeout: 300_000 }, () =>
        withLogs(cluster, async () => {
          // socks5h sends the name; the exit resolves "localhost" itself (allowed: loopback is opened for tests).
          const host = mode === 'socks5h' ? 'localhost' : '127.0.0.1';
          const r = await curl({
            proxyPort: cluster.proxyPort(),
            mode,
            url: `http://${host}:${origin.port}/bytes/${size}?seed=${s}`,
            maxTimeSec: 240,
          });
          assert.equal(r.exitCode, 0, describeCurl(r));
          assert.equal(r.httpCode, 200, describeCurl(r));
          assert.equal(r.bytes, size, describeCurl(r));
          assert.equal(r.sha256, contentSha256(size, s));
        }),
      );
    }
  }

  it('an upload of 10 MiB through socks5h:// reaches the sink intact', { timeout: 300_000 }, () =>
    withLogs(cluster, async () => {
      const size = 10 * MiB;
      const r = await curl({
        proxyPort: cluster.proxyPort(),
        mode: 'socks5h',
        url: `http://localhost:${origin.port}/sink`,
        maxTimeSec: 240,
        upload: { size, seed: 7 },
      });
      assert.equal(r.exitCode, 0, describeCurl(r));
      assert.deepEqual(JSON.parse(r.smallBody), { bytes: size, sha256: contentSha256(size, 7) });
    }),
  );

  it(`${CONCURRENT} SOCKS5 transfers open at the same moment all complete intact`, { timeout: 300_000 }, () =>
    withLogs(cluster, async () => {
      const size = 128 * KiB;
      const proxyPort = cluster.proxyPort();
      // Each origin response stops halfway until all of them are in flight at once.
      const transfers = pool(CONCURRENT, CONCURRENT, (i) => getThroughSocks(proxyPort, origin.port, `/hold/c${i}/${size}?seed=${1000 + i}`, 180_000));
      try {
        await origin.waitHolding(CONCURRENT, 120_000);
      } finally {
        origin.release();
      }
      const results = await transfers;
      const failed = results.flatMap((r, i) => (r instanceof Error ? [`#${i}: ${r.message}`] : []));
      assert.deepEqual(failed, [], `${failed.length} of ${CONCURRENT} transfers failed`);
      results.forEach((r, i) => {
        assert.ok(!(r instanceof Error));
        assert.equal(r.status, 200, `transfer ${i}`);
        assert.equal(r.sha256, contentSha256(size, 1000 + i), `transfer ${i}`);
      });
    }),
  );
});

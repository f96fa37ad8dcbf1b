/**
 * Window auto-tuning end to end (docs/mux.md "Window auto-tuning"): a client reaches its
 * handler through a relay that delays each direction by 25 ms (a 50 ms RTT; no netem here).
 * Over such a path the 256 KiB hello windows, not the processes, limit a transfer, so a
 * download must grow the client's receive windows and an upload the handler's, each visible in
 * the role's window-growth gauge, and both transfers must arrive intact.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Cluster, withLogs } from '../support/e2e/cluster.ts';
import { contentSha256 } from '../support/e2e/content.ts';
import { curl, describeCurl, SKIP_WITHOUT_CURL } from '../support/e2e/curl.ts';
import { startDelayRelay, type DelayRelay } from '../support/e2e/delay-relay.ts';
import { metricSum } from '../support/e2e/observe.ts';
import { startOrigin, type Origin } from '../support/e2e/origin.ts';
import { getThroughSocks } from '../support/e2e/socks5.ts';

const MiB = 1024 * 1024;
const ONE_WAY_MS = 25;

describe('a 50 ms RTT between client and handler', { skip: SKIP_WITHOUT_CURL }, () => {
  let origin: Origin;
  let cluster: Cluster;
  let relay: DelayRelay;

  before(async () => {
    origin = await startOrigin();
    // Upload windows at the handler grow to 1 MiB by default; raised here as an operator would
    // for upload-heavy users, so the session window must follow the stream (1.5x) beyond 4 MiB.
    cluster = await Cluster.start({
      name: 'long-path',
      handler: { config: { limits: { maxStreamWindow: '8MiB' } } },
      exits: [{ id: 'exit-a' }],
      clients: [],
    });
    relay = await startDelayRelay(cluster.handlerPort, ONE_WAY_MS);
    const viaRelay = cluster.handlerUrl.replace(`:${cluster.handlerPort}/`, `:${relay.port}/`);
    await cluster.startClient({
      name: 'far',
      user: 'alice',
      config: { handlers: [viaRelay], poolSize: 1, status: { enabled: true, host: '127.0.0.1', port: 0 } },
    });
  });

  after(async () => {
    await cluster?.stop();
    await relay?.close();
    await origin?.close();
  });

  it('a download grows the client windows beyond the hello and arrives intact', { timeout: 120_000 }, () =>
    withLogs(cluster, async () => {
      const size = 16 * MiB;
      const got = await getThroughSocks(cluster.proxyPort('far'), origin.port, `/bytes/${size}?seed=21`, 90_000);
      assert.equal(got.status, 200);
      assert.equal(got.sha256, contentSha256(size, 21));
      // The session window grew with the stream's and stays grown while the session is open.
      const growth = metricSum(await cluster.clientMetrics('far'), 'apfsds_client_window_growth_bytes', { peers: 'handlers' });
      assert.ok(growth > 0, `client window growth ${growth}`);
    }),
  );

  it('an upload grows the handler windows beyond the hello and reaches the sink intact', { timeout: 120_000 }, () =>
    withLogs(cluster, async () => {
      const size = 16 * MiB;
      const clientSessions = async (): Promise<number> =>
        metricSum(await cluster.handlerMetrics(), 'apfsds_handler_window_growth_bytes', { peers: 'clients' });
      const before = await clientSessions();
      const r = await curl({
        proxyPort: cluster.proxyPort('far'),
        mode: 'socks5h',
        url: `http://localhost:${origin.port}/sink`,
        maxTimeSec: 90,
        upload: { size, seed: 22 },
      });
      assert.equal(r.exitCode, 0, describeCurl(r));
      assert.deepEqual(JSON.parse(r.smallBody), { bytes: size, sha256: contentSha256(size, 22) });
      const after = await clientSessions();
      assert.ok(after > before, `the handler's client-session windows grew ${before} -> ${after} bytes`);
    }),
  );
});

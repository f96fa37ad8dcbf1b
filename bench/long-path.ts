/**
 * `npm run bench -- long-path [--json]`: what window auto-tuning buys a user far from the
 * handler. Every role runs in its own process from dist/; the client reaches the handler
 * through a relay that delays each direction by half the RTT (test/support/e2e/delay-relay.ts:
 * no netem here, and the relay reads without limit, so only the tunnel's windows limit a flow).
 * At 50 ms and 200 ms RTT, two clients download the same 16 MiB, one stream each:
 *   - "tuned": the defaults (stream windows grow from 256 KiB up to 8 MiB);
 *   - "fixed": `limits.maxStreamWindow: 0`, the hello's 256 KiB windows only: the baseline,
 *     measured in the same run over the same relay.
 * Then "tuned" downloads again on a new stream of the same session, which starts at the window
 * the first one grew to. Reported: MiB/s of each, the ratios to fixed, and the fixed window's
 * bound (256 KiB per RTT).
 * About 30 seconds.
 */
import { Cluster } from '../test/support/e2e/cluster.ts';
import { contentSha256 } from '../test/support/e2e/content.ts';
import { startDelayRelay, type DelayRelay } from '../test/support/e2e/delay-relay.ts';
import { startOrigin } from '../test/support/e2e/origin.ts';
import { getThroughSocks } from '../test/support/e2e/socks5.ts';
import type { Reporter } from './report.ts';

const MiB = 1024 * 1024;
const SIZE = 16 * MiB;
const RTTS_MS = [50, 200];
/** The client's hello stream window (client/session-dialer.ts). */
const HELLO_STREAM_WINDOW = 256 * 1024;

/** Downloads SIZE bytes through the client on `proxyPort`; returns MiB/s (throws if the body is wrong). */
async function download(proxyPort: number, originPort: number, seed: number): Promise<number> {
  const started = performance.now();
  const got = await getThroughSocks(proxyPort, originPort, `/bytes/${SIZE}?seed=${seed}`, 120_000);
  const seconds = (performance.now() - started) / 1000;
  if (got.status !== 200 || got.sha256 !== contentSha256(SIZE, seed)) {
    throw new Error(`long-path download came back wrong: status ${got.status}, ${got.bytes} bytes`);
  }
  return SIZE / MiB / seconds;
}

export async function run(reporter: Reporter, _argv: string[]): Promise<void> {
  const origin = await startOrigin();
  const relays: DelayRelay[] = [];
  let cluster: Cluster | undefined;
  try {
    cluster = await Cluster.start({ name: 'long-path', fromBuild: true, exits: [{ id: 'exit-a' }], clients: [] });
    for (const rtt of RTTS_MS) {
      const relay = await startDelayRelay(cluster.handlerPort, rtt / 2);
      relays.push(relay);
      const url = cluster.handlerUrl.replace(`:${cluster.handlerPort}/`, `:${relay.port}/`);
      const start = (name: string, limits: object) =>
        cluster!.startClient({ name, user: 'alice', config: { handlers: [url], poolSize: 1, limits } });
      const fixed = await start(`fixed-${rtt}`, { maxStreamWindow: 0, maxSessionWindow: 0 });
      const tuned = await start(`tuned-${rtt}`, {});
      const fixedRate = await download(fixed.port, origin.port, rtt);
      const tunedRate = await download(tuned.port, origin.port, rtt + 1);
      const secondRate = await download(tuned.port, origin.port, rtt + 2);
      const scenario = `long path ${rtt} ms RTT`;
      reporter.report({ scenario, metric: 'download, fixed 256 KiB windows', value: fixedRate, unit: 'MiB/s', baseline: HELLO_STREAM_WINDOW / MiB / (rtt / 1000) });
      reporter.report({ scenario, metric: 'download, auto-tuned windows', value: tunedRate, unit: 'MiB/s', baseline: fixedRate });
      reporter.report({ scenario, metric: 'download, auto-tuned, next stream', value: secondRate, unit: 'MiB/s', baseline: fixedRate });
    }
  } finally {
    await cluster?.stop();
    for (const relay of relays) await relay.close();
    await origin.close();
  }
}

/**
 * The exit's default egress policy seen from an app (ARCHITECTURE 7): with no allow list,
 * curl through socks5h:// to loopback, private, link-local metadata, IPv6 loopback, an
 * IPv4-mapped IPv6 loopback and a name that resolves to 127.0.0.1 gets the SOCKS5 refusal
 * "connection not allowed by ruleset" (REP 0x02, curl exit 97), and HTTP CONNECT gets 403.
 *
 * 10.0.0.1 and 169.254.169.254 must never see a packet from this test: they are asked for
 * only after the loopback targets proved, through the exit's own metrics, that this exit
 * refuses by policy before dialing, and only if the policy module refuses them too.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createEgressPolicy } from '../../exit/egress/policy.ts';
import { Cluster, withLogs } from '../support/e2e/cluster.ts';
import { curl, describeCurl, SKIP_WITHOUT_CURL, type CurlResult } from '../support/e2e/curl.ts';
import { metricSum } from '../support/e2e/observe.ts';
import { startOrigin, type Origin } from '../support/e2e/origin.ts';
import { Socks5ReplyError, socks5Connect } from '../support/e2e/socks5.ts';

/** SOCKS5 REP "connection not allowed by ruleset" (RFC 1928 section 6). */
const NOT_ALLOWED = 2;
/** curl's CURLE_PROXY: the proxy handshake failed. */
const CURLE_PROXY = 97;

describe('the default egress policy refuses private destinations before dialing', { skip: SKIP_WITHOUT_CURL, timeout: 300_000 }, () => {
  let origin: Origin;
  let cluster: Cluster;

  before(async () => {
    origin = await startOrigin();
    cluster = await Cluster.start({ name: 'egress', exits: [{ id: 'exit-a', allowEgress: [] }] });
  });

  after(async () => {
    await cluster?.stop();
    await origin?.close();
  });

  async function exitCounts(): Promise<{ policy: number; connects: number }> {
    const m = await cluster.exitMetrics('exit-a');
    return {
      policy: metricSum(m, 'apfsds_exit_open_failures_total', { reason: 'policy' }),
      connects: metricSum(m, 'apfsds_exit_connect_seconds_count'),
    };
  }

  function assertRefused(what: string, r: CurlResult): void {
    assert.equal(r.exitCode, CURLE_PROXY, `${what}: ${describeCurl(r)}`);
    assert.equal(r.socksReply, NOT_ALLOWED, `${what}: ${describeCurl(r)}`);
    assert.equal(r.bytes, 0, `${what}: no body may arrive`);
  }

  // The origin really listens on 127.0.0.1, so a policy that let these through would connect.
  const loopbackTargets = (port: number): Array<[string, string]> => [
    ['127.0.0.1', `http://127.0.0.1:${port}/bytes/16`],
    ['[::1]', `http://[::1]:${port}/bytes/16`],
    ['[::ffff:127.0.0.1]', `http://[::ffff:127.0.0.1]:${port}/bytes/16`],
    ['localhost (resolves to 127.0.0.1 at the exit)', `http://localhost:${port}/bytes/16`],
  ];

  it('loopback by address, IPv6, IPv4-mapped IPv6 and by name: curl sees SOCKS5 reply 0x02', () =>
    withLogs(cluster, async () => {
      const before = await exitCounts();
      for (const [what, url] of loopbackTargets(origin.port)) {
        assertRefused(what, await curl({ proxyPort: cluster.proxyPort(), mode: 'socks5h', url, maxTimeSec: 30, verbose: true }));
      }
      const after = await exitCounts();
      assert.equal(after.policy - before.policy, 4, 'the exit counted four policy refusals');
      assert.equal(after.connects, before.connects, 'the exit dialed nothing');
      assert.equal(origin.requests, 0, 'the origin saw no request');
    }),
  );

  it('HTTP CONNECT to a refused destination gets 403', () =>
    withLogs(cluster, async () => {
      const r = await curl({ proxyPort: cluster.proxyPort(), mode: 'http-connect', url: `http://127.0.0.1:${origin.port}/bytes/16`, maxTimeSec: 30 });
      assert.notEqual(r.exitCode, 0, describeCurl(r));
      assert.equal(r.connectCode, 403, describeCurl(r));
      assert.equal(origin.requests, 0, 'the origin saw no request');
    }),
  );

  it('10.0.0.1 and 169.254.169.254 are refused with reply 0x02 (never dialed)', () =>
    withLogs(cluster, async () => {
      // Guards: the policy module refuses them, and this exit demonstrably refuses by policy
      // without dialing (the loopback cases above ran first in this file).
      const policy = createEgressPolicy();
      for (const ip of ['10.0.0.1', '169.254.169.254']) assert.equal(policy.check(ip).allowed, false, `policy refuses ${ip}`);
      const guard = await exitCounts();
      assert.ok(guard.policy >= 4, 'the loopback refusals by policy were observed first; not sending private targets');

      // A direct SOCKS5 CONNECT shows the raw reply code too.
      await assert.rejects(socks5Connect(cluster.proxyPort(), '10.0.0.1', 80, 30_000), (err: unknown) => err instanceof Socks5ReplyError && err.reply === NOT_ALLOWED);
      assertRefused('169.254.169.254', await curl({ proxyPort: cluster.proxyPort(), mode: 'socks5h', url: 'http://169.254.169.254/latest/meta-data/', maxTimeSec: 30, verbose: true }));
      assertRefused('10.0.0.1', await curl({ proxyPort: cluster.proxyPort(), mode: 'socks5h', url: 'http://10.0.0.1/', maxTimeSec: 30, verbose: true }));
      const after = await exitCounts();
      assert.equal(after.policy - guard.policy, 3, 'three more policy refusals');
      assert.equal(after.connects, guard.connects, 'the exit dialed nothing');
    }),
  );
});

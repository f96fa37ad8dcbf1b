/**
 * Active probing of a real handler (ARCHITECTURE 3, failure answers): a censor that knows the
 * secret path still learns nothing from a wrong user key, garbage after the upgrade, a
 * replayed handshake message 1 or a plain GET. Each answer is compared byte for byte with the
 * decoy's: a plain GET on the secret path with a GET on a path the handler never heard of,
 * and every post-upgrade probe with an upgraded socket that sends nothing (the idle answer:
 * silence, then a close at the handshake deadline). Another user's transfers keep running.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Cluster, withLogs } from '../support/e2e/cluster.ts';
import { contentSha256 } from '../support/e2e/content.ts';
import { newKeyPair, secretPathOf } from '../support/e2e/keys.ts';
import { metricSum, type Sample } from '../support/e2e/observe.ts';
import { startOrigin, type Origin } from '../support/e2e/origin.ts';
import {
  firstServerFrame,
  normalize,
  plainGet,
  probe,
  sessionMessage1,
  upgradeRequest,
  wsBinaryFrame,
  type ProbeRecord,
} from '../support/e2e/raw-ws.ts';
import { getThroughSocks } from '../support/e2e/socks5.ts';

/** The handler's handshake deadline in this cluster; probes listen past it. */
const HANDSHAKE_MS = 2_000;
// Generous: on a loaded CI box the close at the deadline may come late; only its form is compared.
const LISTEN_MS = HANDSHAKE_MS + 8_000;

function show(r: ProbeRecord): string {
  return JSON.stringify({ head: normalize(r.head), after: r.after.toString('hex').slice(0, 200), afterBytes: r.after.length, end: r.end });
}

function assertSameAnswer(probeName: string, got: ProbeRecord, decoy: ProbeRecord): void {
  assert.equal(normalize(got.head), normalize(decoy.head), `${probeName}: response head differs from the decoy's\n${show(got)}\n${show(decoy)}`);
  assert.equal(got.after.toString('hex'), decoy.after.toString('hex'), `${probeName}: bytes after the head differ from the decoy's\n${show(got)}\n${show(decoy)}`);
  assert.equal(got.end, decoy.end, `${probeName}: the connection ended differently from the decoy's\n${show(got)}\n${show(decoy)}`);
}

describe('probes get the decoy answer while real users keep working', { timeout: 300_000 }, () => {
  let origin: Origin;
  let cluster: Cluster;

  before(async () => {
    origin = await startOrigin();
    cluster = await Cluster.start({
      name: 'probes',
      users: ['bob', 'carol'],
      clients: [{ name: 'bob', user: 'bob' }],
      handler: { config: { limits: { handshakeTimeout: `${HANDSHAKE_MS}ms` } } },
    });
  });

  after(async () => {
    await cluster?.stop();
    await origin?.close();
  });

  it('a plain GET on the WebSocket path gets the same bytes as a GET on an unknown path', () =>
    withLogs(cluster, async () => {
      const port = cluster.handlerPort;
      const [onPath, elsewhere] = await Promise.all([
        probe({ port, request: plainGet(cluster.path), listenMs: LISTEN_MS }),
        probe({ port, request: plainGet(secretPathOf('t')), listenMs: LISTEN_MS }),
      ]);
      assert.notEqual(onPath.head, '', 'the decoy answers plain HTTP');
      assertSameAnswer('plain GET on the secret path', onPath, elsewhere);
    }),
  );

  it('a wrong user key, garbage and a replayed message 1 get the idle answer; bob transfers meanwhile', { timeout: 240_000 }, () =>
    withLogs(cluster, async () => {
      const port = cluster.handlerPort;
      const proxyPort = cluster.proxyPort('bob');
      const size = 4 * 1024 * 1024;

      // Bob: one long stream held open across all probes, plus short transfers while they run.
      const held = getThroughSocks(proxyPort, origin.port, `/hold/bob/${size}?seed=42`, 120_000);
      held.catch(() => undefined); // awaited below; this only keeps an early failure from being "unhandled"
      await origin.waitHolding(1, 60_000);

      const handshakes = (m: Sample[], result: string): number => metricSum(m, 'apfsds_handler_handshakes_total', { result });
      const metricsBefore = await cluster.handlerMetrics();

      // A genuine message 1 from carol (registered); its first use gets message 2.
      const carol = cluster.userKeys.get('carol')!;
      const message1 = Buffer.from(sessionMessage1(carol.privateKey, cluster.clusterKeys.publicKey));
      const original = await probe({
        port,
        request: upgradeRequest(cluster.path),
        then: [wsBinaryFrame(message1)],
        listenMs: 30_000,
        until: (after) => firstServerFrame(after) !== undefined,
      });
      assert.ok(original.head.startsWith('HTTP/1.1 101'), `the secret path upgrades: ${show(original)}`);
      assert.ok(firstServerFrame(original.after) !== undefined, `carol's first message 1 is answered: ${show(original)}`);

      let probesDone = false;
      const stranger = newKeyPair();
      const probes = Promise.all([
        probe({ port, request: upgradeRequest(cluster.path), listenMs: LISTEN_MS }),
        probe({ port, request: upgradeRequest(cluster.path), then: [wsBinaryFrame(sessionMessage1(stranger.privateKey, cluster.clusterKeys.publicKey))], listenMs: LISTEN_MS }),
        probe({ port, request: upgradeRequest(cluster.path), then: [wsBinaryFrame(randomBytes(96))], listenMs: LISTEN_MS }),
        probe({ port, request: upgradeRequest(cluster.path), then: [wsBinaryFrame(message1)], listenMs: LISTEN_MS }),
      ]).finally(() => {
        probesDone = true;
      });
      const during: string[] = [];
      let completed = 0;
      for (let i = 0; i < 500 && !probesDone; i++) {
        try {
          const r = await getThroughSocks(proxyPort, origin.port, `/bytes/65536?seed=${500 + (i % 4)}`, 30_000);
          if (r.status !== 200 || r.sha256 !== contentSha256(65_536, 500 + (i % 4))) during.push(`#${i}: status ${r.status}, ${r.bytes} bytes`);
          else completed++;
        } catch (err) {
          during.push(`#${i}: ${(err as Error).message}`);
        }
      }
      const [idle, wrongKey, garbage, replayed] = await probes;

      assert.ok(idle.head.startsWith('HTTP/1.1 101'), `reference upgrade: ${show(idle)}`);
      // ARCHITECTURE 3: a socket that never completes the handshake is closed at the deadline.
      assert.equal(idle.end, 'fin', `an upgraded socket that stays silent is closed after the handshake deadline: ${show(idle)}`);
      assertSameAnswer('wrong user key', wrongKey, idle);
      assertSameAnswer('garbage after the upgrade', garbage, idle);
      assertSameAnswer('replayed message 1', replayed, idle);
      // The probes reached the handshake and were refused for the reason each one carries.
      const metricsAfter = await cluster.handlerMetrics();
      for (const result of ['unknown_user', 'bad_handshake', 'replay']) {
        assert.ok(handshakes(metricsAfter, result) > handshakes(metricsBefore, result), `the handler counted a ${result} handshake`);
      }

      assert.deepEqual(during, [], "bob's transfers during the probes all succeed");
      assert.ok(completed >= 1, 'bob completed transfers while the probes ran');
      origin.release('bob');
      const r = await held;
      assert.equal(r.status, 200);
      assert.equal(r.sha256, contentSha256(size, 42), "bob's long stream arrives intact");
    }),
  );
});

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OpenFailReason } from '../../shared/protocol/codes.ts';
import type { MuxSession } from '../../shared/mux/session.ts';
import { startExit, type RunningExit } from '../../exit/main.ts';
import { captureLogger, dialLink, echoServer, exitConfig, makeKeys, openFailReason, openTcp } from './harness.ts';

describe('exit with the default egress policy (no allowlist)', () => {
  const keys = makeKeys();
  const log = captureLogger('debug');
  let exit: RunningExit;
  let link: MuxSession;
  let echo: Awaited<ReturnType<typeof echoServer>>;

  before(async () => {
    exit = await startExit(exitConfig(keys), { logger: log.logger, drainTimeoutMs: 200 });
    echo = await echoServer();
    link = await dialLink(exit.linkPort!, keys);
  });

  after(async () => {
    link.close();
    await exit.close();
    await echo.close();
  });

  const cases: Array<[string, string]> = [
    ['127.0.0.1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['169.254.169.254', 'metadata'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['localhost', 'loopback'],
  ];
  for (const [host, why] of cases) {
    it(`refuses ${host} with NOT_ALLOWED (${why}), judged on the resolved address`, async () => {
      const stream = openTcp(link, host, echo.port);
      assert.equal(await openFailReason(stream), OpenFailReason.NOT_ALLOWED);
      const line = log.lines().find((l) => l['msg'] === 'open failed' && l['stream'] === stream.id && l['session'] !== undefined);
      assert.ok(line, 'an open failed line for the stream');
      assert.equal(line['label'], 'policy');
      assert.equal(line['detail'], why);
    });
  }

  it('never connected to the target and counted every refusal', () => {
    const stats = exit.stats();
    assert.equal(stats.opened, 0);
    assert.equal(stats.failed, cases.length);
  });

  it('logs no key material', () => {
    const text = JSON.stringify(log.lines());
    for (const k of [keys.exitPrivate, keys.clusterPrivate]) {
      assert.equal(text.includes(Buffer.from(k).toString('base64url')), false);
      assert.equal(text.includes(Buffer.from(k).toString('hex')), false);
    }
  });
});

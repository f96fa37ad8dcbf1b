import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startExit, type RunningExit } from '../../exit/main.ts';
import { makeTestCert, SKIP_WITHOUT_OPENSSL, type TestCert } from '../shared/runtime/fixtures.ts';
import { LINK_PATH, dialLink, echoServer, exitConfig, makeKeys, openTcp, quietLogger, readAll, within } from './harness.ts';

describe('exit link listener over TLS (listen.tls)', { skip: SKIP_WITHOUT_OPENSSL }, () => {
  const keys = makeKeys();
  let cert: TestCert;
  let exit: RunningExit;
  let echo: Awaited<ReturnType<typeof echoServer>>;

  before(async () => {
    cert = makeTestCert()!;
    exit = await startExit(
      exitConfig(keys, {
        listen: { host: '127.0.0.1', port: 0, path: LINK_PATH, tls: { certFile: cert.certFile, keyFile: cert.keyFile } },
        egress: { allow: ['127.0.0.1/32'] },
      }),
      { logger: quietLogger(), drainTimeoutMs: 200 },
    );
    echo = await echoServer();
  });

  after(async () => {
    await exit.close();
    await echo.close();
    cert.dispose();
  });

  it('accepts a wss:// link from a handler that pins the certificate and serves streams', async () => {
    const link = await dialLink(exit.linkPort!, keys, { tls: { pinSha256: cert.fingerprint } });
    try {
      const stream = openTcp(link, '127.0.0.1', echo.port);
      await stream.write(new TextEncoder().encode('over tls'));
      stream.end();
      assert.equal((await within(readAll(stream), 10_000, 'echo')).toString(), 'over tls');
    } finally {
      link.close();
    }
  });
});

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startClient } from '../../client/main.ts';
import { startFakeHandler, type FakeHandler } from './fake-handler.ts';
import { makeTestPki, SKIP_WITHOUT_OPENSSL, type TestPki } from './certs.ts';
import { captureLog, clientConfig, curl, makeUser, startOrigin, within, type Origin } from './helpers.ts';

describe('client sessions over wss:// with certificate checks', { skip: SKIP_WITHOUT_OPENSSL }, () => {
  const user = makeUser();
  let pki: TestPki;
  let handler: FakeHandler;
  let origin: Origin;

  before(async () => {
    pki = makeTestPki();
    handler = await startFakeHandler({ users: [user.publicKey], tls: { certFile: pki.certFile, keyFile: pki.keyFile } });
    origin = await startOrigin();
  });

  after(async () => {
    await handler.close();
    await origin.close();
    pki.dispose();
  });

  async function connectsWith(tls: Record<string, unknown>): Promise<void> {
    const before = handler.sessionsAccepted;
    const client = await startClient(clientConfig([handler.url], handler.clusterPublicKey, user, { tls }), { logger: captureLog().logger });
    try {
      await within(handler.waitSessions(before + 1), 10_000, 'a wss session');
      const r = await curl(['-x', `socks5h://127.0.0.1:${client.port}`, `http://localhost:${origin.port}/over-wss`]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /over-wss/);
    } finally {
      await client.close();
    }
  }

  async function refusedWith(tls: Record<string, unknown>): Promise<string> {
    const log = captureLog();
    const before = handler.sessionsAccepted;
    const client = await startClient(clientConfig([handler.url], handler.clusterPublicKey, user, { tls }), { logger: log.logger });
    try {
      const line = await log.waitFor((l) => l['code'] === 'APFSDS_ERR_TLS_VERIFY');
      assert.equal(line['level'], 'error');
      assert.equal(handler.sessionsAccepted, before);
      return String(line['msg']);
    } finally {
      await client.close();
    }
  }

  it('connects when the handler certificate chains to the configured caFile', async () => {
    await connectsWith({ caFile: pki.caFile });
  });

  it('connects when the handler certificate matches the configured pin, without a CA', async () => {
    await connectsWith({ pinSha256: [pki.leafPin] });
  });

  it('connects when both the caFile and the pin match', async () => {
    await connectsWith({ caFile: pki.caFile, pinSha256: [pki.leafPin] });
  });

  it('refuses a certificate from another CA and logs a CA failure naming the handler', async () => {
    const msg = await refusedWith({ caFile: pki.otherCaFile });
    assert.match(msg, /TLS CA check failed for handler wss:\/\/127\.0\.0\.1:\d+/);
  });

  it('refuses a certificate that matches no pin and logs a pin mismatch naming the handler', async () => {
    const msg = await refusedWith({ pinSha256: ['AB'.repeat(32)] });
    assert.match(msg, /TLS pin mismatch for handler wss:\/\/127\.0\.0\.1:\d+/);
  });

  it('refuses the system CAs for a private CA (no caFile, no pin)', async () => {
    const msg = await refusedWith({});
    assert.match(msg, /TLS CA check failed/);
  });
});

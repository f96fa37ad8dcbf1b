/**
 * WSS between client and handler with certificates made here (openssl): a CA and a leaf for
 * 127.0.0.1/localhost served by the handler, and an unrelated CA + leaf. A client that trusts
 * the CA file, or pins the leaf, carries curl's transfer; one that trusts the other CA, or pins
 * the other leaf, refuses the handler and says so in its log.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makePki, SKIP_WITHOUT_OPENSSL, type TestPki } from '../support/e2e/certs.ts';
import { Cluster, withLogs } from '../support/e2e/cluster.ts';
import { contentSha256 } from '../support/e2e/content.ts';
import { curl, describeCurl, SKIP_WITHOUT_CURL } from '../support/e2e/curl.ts';
import { startOrigin, type Origin } from '../support/e2e/origin.ts';
import { freePorts } from '../support/e2e/ports.ts';
import type { LogLine } from '../support/e2e/role-process.ts';

const SKIP = SKIP_WITHOUT_OPENSSL || SKIP_WITHOUT_CURL;

/** A warning or error line about certificate verification. */
function isTlsRefusal(l: LogLine): boolean {
  const j = l.json;
  if (j === undefined) return false;
  const level = j['level'];
  const serious = level === 'warn' || level === 'error' || level === 'fatal' || (typeof level === 'number' && level >= 40);
  return serious && /certificate|tls|pin|verif|self.signed|issuer/i.test(l.text);
}

describe('WSS: the client checks the handler certificate against its CA file or pin', { skip: SKIP, timeout: 300_000 }, () => {
  let origin: Origin;
  let cluster: Cluster;
  let pkiDir: string;
  let good: TestPki;
  let other: TestPki;
  let badPorts: number[];

  before(async () => {
    pkiDir = mkdtempSync(join(tmpdir(), 'apfsds-e2e-pki-'));
    good = makePki(pkiDir, 'good');
    other = makePki(pkiDir, 'other');
    origin = await startOrigin();
    // Refusing clients may never report ready (no session); their ports are chosen up front.
    badPorts = await freePorts(2);
    cluster = await Cluster.start({
      name: 'tls',
      handler: { tls: { certFile: good.certFile, keyFile: good.keyFile } },
      clients: [
        { name: 'ca-ok', user: 'alice', config: { tls: { caFile: good.caFile } } },
        { name: 'pin-ok', user: 'alice', config: { tls: { pinSha256: [good.pin] } } },
        { name: 'ca-wrong', user: 'alice', config: { tls: { caFile: other.caFile }, listen: { port: badPorts[0] }, openTimeout: '2s' }, waitReady: false },
        { name: 'pin-wrong', user: 'alice', config: { tls: { pinSha256: [other.pin] }, listen: { port: badPorts[1] }, openTimeout: '2s' }, waitReady: false },
      ],
    });
  });

  after(async () => {
    await cluster?.stop();
    await origin?.close();
    if (pkiDir !== undefined) rmSync(pkiDir, { recursive: true, force: true });
  });

  for (const name of ['ca-ok', 'pin-ok']) {
    it(`a client with ${name === 'ca-ok' ? 'the CA file' : 'the leaf pin'} connects and carries a transfer`, () =>
      withLogs(cluster, async () => {
        const size = 1024 * 1024;
        const r = await curl({ proxyPort: cluster.proxyPort(name), mode: 'socks5h', url: `http://localhost:${origin.port}/bytes/${size}?seed=9`, maxTimeSec: 60 });
        assert.equal(r.exitCode, 0, describeCurl(r));
        assert.equal(r.sha256, contentSha256(size, 9));
      }),
    );
  }

  for (const [name, index] of [['ca-wrong', 0], ['pin-wrong', 1]] as const) {
    it(`a client with ${name === 'ca-wrong' ? 'another CA file' : 'another pin'} refuses the handler with a clear log line`, () =>
      withLogs(cluster, async () => {
        const client = cluster.clients.get(name)!;
        const line = await client.proc.waitForLine(isTlsRefusal, 60_000, 'a warning about the handler certificate');
        assert.ok(line.text.length > 0);
        const r = await curl({ proxyPort: badPorts[index]!, mode: 'socks5h', url: `http://localhost:${origin.port}/bytes/1024?seed=9`, maxTimeSec: 30 });
        assert.notEqual(r.exitCode, 0, `no transfer through a client that refused the handler: ${describeCurl(r)}`);
        assert.equal(r.bytes, 0, describeCurl(r));
      }),
    );
  }
});

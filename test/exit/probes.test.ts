import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, hasCode } from '../../shared/errors.ts';
import { generatePrivateKey } from '../../shared/crypto/keys.ts';
import { dialWebSocket } from '../../shared/runtime/ws-client.ts';
import { startExit, type RunningExit } from '../../exit/main.ts';
import { rawConnect, stripDate, upgradeRequest } from '../shared/runtime/fixtures.ts';
import { LINK_PATH, dialLink, exitConfig, makeKeys, quietLogger, until, within } from './harness.ts';

const HANDSHAKE_MS = 300;

describe('exit link listener facing probes, and its status listener', () => {
  const keys = makeKeys();
  let exit: RunningExit;

  before(async () => {
    exit = await startExit(exitConfig(keys, { limits: { handshakeTimeout: HANDSHAKE_MS } }), { logger: quietLogger(), drainTimeoutMs: 200 });
  });

  after(async () => {
    await exit.close();
  });

  async function exchange(request: string): Promise<string> {
    const client = await rawConnect(exit.linkPort!);
    client.socket.write(request);
    await client.waitFor('</html>\r\n', 5_000);
    client.socket.destroy();
    return stripDate(client.received().toString('latin1'));
  }

  it('answers every plain request and wrong upgrade with the same 404, wherever it points', async () => {
    const home = await exchange('GET / HTTP/1.1\r\nHost: example.com\r\n\r\n');
    assert.match(home, /^HTTP\/1\.1 404 /);
    assert.doesNotMatch(home, /apfsds|noise|tunnel|websocket/i);
    assert.equal(await exchange(`GET ${LINK_PATH} HTTP/1.1\r\nHost: example.com\r\n\r\n`), home);
    assert.equal(await exchange('GET /random/path?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n'), home);
    assert.equal(await exchange(upgradeRequest('/other').replace('localhost', 'example.com')), home);
    const badKey = upgradeRequest(LINK_PATH).replace('dGhlIHNhbXBsZSBub25jZQ==', 'short').replace('localhost', 'example.com');
    assert.equal(await exchange(badKey), home);
  });

  it('never answers garbage after the upgrade, and drops the socket without a close frame', async () => {
    const ws = await dialWebSocket(`ws://127.0.0.1:${exit.linkPort}${LINK_PATH}`, { timeoutMs: 5_000 });
    const messages: Uint8Array[] = [];
    ws.onMessage((m) => messages.push(m));
    const closed = new Promise<number>((resolve) => ws.onClose((code) => resolve(code)));
    ws.send(new Uint8Array(200).fill(0x41));
    ws.send(new Uint8Array(3000).fill(7));
    const code = await within(closed, 5_000, 'server drops the socket');
    assert.equal(code, 1006);
    assert.equal(messages.length, 0);
  });

  it('says nothing to a silent upgraded socket and drops it at the handshake deadline', async () => {
    const ws = await dialWebSocket(`ws://127.0.0.1:${exit.linkPort}${LINK_PATH}`, { timeoutMs: 5_000 });
    const messages: Uint8Array[] = [];
    ws.onMessage((m) => messages.push(m));
    const code = await within(new Promise<number>((resolve) => ws.onClose((c) => resolve(c))), 5_000, 'server drops the socket');
    assert.equal(code, 1006);
    assert.equal(messages.length, 0);
  });

  it('refuses a handler with the wrong cluster key without a word', async () => {
    await assert.rejects(dialLink(exit.linkPort!, keys, { clusterPrivate: generatePrivateKey() }), (err: unknown) => hasCode(err, ErrorCode.CLOSED) || hasCode(err, ErrorCode.TIMEOUT));
    assert.equal(exit.linksUp, 0);
  });

  it('reports /health always, /ready only while a handler link is up, and metrics', async () => {
    const base = `http://127.0.0.1:${exit.statusPort}`;
    assert.equal((await fetch(`${base}/health`)).status, 200);
    const notReady = await fetch(`${base}/ready`);
    assert.equal(notReady.status, 503);
    await notReady.body?.cancel();
    const link = await dialLink(exit.linkPort!, keys);
    try {
      await until(() => exit.linksUp === 1, 'link counted');
      const ready = await fetch(`${base}/ready`);
      assert.equal(ready.status, 200);
      await ready.body?.cancel();
      const metrics = await fetch(`${base}/metrics`);
      assert.equal(metrics.status, 200);
      assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const text = await metrics.text();
      assert.match(text, /apfsds_exit_links_active 1/);
      assert.match(text, /apfsds_exit_streams_active 0/);
      assert.match(text, /apfsds_exit_bytes_total/);
      const missing = await fetch(`${base}/nope`);
      assert.equal(missing.status, 404);
      await missing.body?.cancel();
    } finally {
      link.close();
    }
    await until(() => exit.linksUp === 0, 'link gone');
    const again = await fetch(`${base}/ready`);
    assert.equal(again.status, 503);
    await again.body?.cancel();
  });
});

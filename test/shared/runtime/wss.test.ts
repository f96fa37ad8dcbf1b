import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { ErrorCode, hasCode } from '../../../shared/errors.ts';
import { serve, type HttpServer } from '../../../shared/runtime/http-server.ts';
import { pinOfPem, type TlsVerifyReason } from '../../../shared/runtime/tls.ts';
import { dialWebSocket, type DialWebSocketOptions } from '../../../shared/runtime/ws-client.ts';
import { deferred, makeTestCert, SKIP_WITHOUT_OPENSSL, stripDate, upgradeRequest, within, type TestCert } from './fixtures.ts';

const cert = makeTestCert();

describe('WSS with a self-signed certificate', { skip: SKIP_WITHOUT_OPENSSL }, () => {
  let server: HttpServer;
  let url: string;
  const c = cert as TestCert;

  before(async () => {
    server = await serve({
      hostname: '127.0.0.1',
      port: 0,
      tls: { certFile: c.certFile, keyFile: c.keyFile },
      fetch: () => new Response('decoy page', { status: 404 }),
      websocket: { path: '/t', onOpen: (ws) => ws.onMessage((data) => ws.send(data)) },
    });
    url = `wss://127.0.0.1:${server.port}/t`;
  });

  after(async () => {
    await server.close({ graceMs: 0 });
    c.dispose();
  });

  async function echoOnce(options: DialWebSocketOptions, target = url): Promise<void> {
    const ws = await dialWebSocket(target, { timeoutMs: 5_000, ...options });
    const reply = deferred<Uint8Array>();
    ws.onMessage((data) => reply.resolve(data));
    ws.send(Uint8Array.of(7, 8, 9));
    assert.deepEqual(await within(reply.promise, 5_000, 'echo'), Uint8Array.of(7, 8, 9));
    ws.close();
  }

  async function refusal(options: DialWebSocketOptions): Promise<TlsVerifyReason> {
    let reason: TlsVerifyReason | undefined;
    await assert.rejects(dialWebSocket(url, { timeoutMs: 5_000, ...options }), (err) => {
      assert.ok(hasCode(err, ErrorCode.TLS_VERIFY), `expected TLS_VERIFY, got ${String(err)}`);
      reason = (err as { reason?: TlsVerifyReason }).reason;
      return true;
    });
    return reason as TlsVerifyReason;
  }

  it('connects when the certificate is given as caFile or as a ca PEM string', async () => {
    await echoOnce({ tls: { caFile: c.certFile } });
    await echoOnce({ tls: { ca: c.cert } });
    await echoOnce({ tls: { caFile: c.certFile } }, `wss://localhost:${server.port}/t`);
  });

  it('connects with the right pin in openssl hex and in base64, without any CA', async () => {
    await echoOnce({ tls: { pinSha256: c.fingerprint } });
    await echoOnce({ tls: { pinSha256: ['00'.repeat(32), pinOfPem(c.cert).base64] } });
  });

  it('refuses a wrong pin with TLS_VERIFY reason pin', async () => {
    assert.equal(await refusal({ tls: { pinSha256: 'ab'.repeat(32) } }), 'pin');
    assert.equal(await refusal({ tls: { pinSha256: 'ab'.repeat(32), caFile: c.certFile } }), 'pin');
  });

  it('refuses by default because a self-signed certificate is not in the system store', async () => {
    assert.equal(await refusal({}), 'untrusted');
  });

  it('refuses a trusted certificate presented for another name with reason hostname', async () => {
    assert.equal(await refusal({ tls: { caFile: c.certFile, servername: 'example.com' } }), 'hostname');
  });

  it('connects with insecure: true and rejects a malformed pin with BAD_CONFIG', async () => {
    await echoOnce({ tls: { insecure: true } });
    await assert.rejects(dialWebSocket(url, { tls: { pinSha256: 'not-a-pin' } }), (err) => hasCode(err, ErrorCode.BAD_CONFIG));
  });

  it('answers a non-matching upgrade over TLS like a plain request and keeps the connection', async () => {
    const exchange = async (request: string): Promise<string> => {
      const socket = tls.connect({ host: '127.0.0.1', port: server.port, ca: c.cert, servername: 'localhost' });
      const chunks: Buffer[] = [];
      const ended = deferred();
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('end', () => ended.resolve());
      socket.on('close', () => ended.resolve());
      socket.on('error', () => {});
      socket.write(request);
      await within(ended.promise, 5_000, 'TLS server FIN');
      socket.destroy();
      return stripDate(Buffer.concat(chunks).toString('latin1'));
    };
    const closing = 'GET /x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n';
    const both = await exchange(upgradeRequest('/x') + closing);
    const plain = await exchange('GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n' + closing);
    assert.equal(both.match(/decoy page/g)?.length, 2);
    assert.equal(both, plain);
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startClient } from '../../client/main.ts';
import { generatePrivateKey } from '../../shared/crypto/keys.ts';
import { StaticKey } from '../../shared/crypto/static-key.ts';
import { startFakeHandler } from './fake-handler.ts';
import { captureLog, clientConfig, curl, makeUser, RawSocket, socks5Reply, startOrigin, within } from './helpers.ts';

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('keepalive finds a silent handler dead, and the client reconnects to the second URL', async () => {
  const user = makeUser();
  const clusterKey = StaticKey.fromPrivate(generatePrivateKey());
  const a = await startFakeHandler({ users: [user.publicKey], clusterKey });
  const b = await startFakeHandler({ users: [user.publicKey], clusterKey });
  const origin = await startOrigin();
  const log = captureLog();
  const client = await startClient(clientConfig([a.url, b.url], clusterKey.publicKey, user), { logger: log.logger });
  try {
    await within(a.waitSessions(1), 10_000, 'session on A');
    const first = await curl(['-x', `socks5h://127.0.0.1:${client.port}`, `http://localhost:${origin.port}/via-a`]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(a.opens, 1);

    a.freeze();
    await log.waitFor((l) => l['msg'] === 'session lost; reconnecting' && l['code'] === 'APFSDS_ERR_TIMEOUT');
    await within(b.waitSessions(1), 10_000, 'session on B');
    const second = await curl(['-x', `socks5h://127.0.0.1:${client.port}`, `http://localhost:${origin.port}/via-b`]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /via-b/);
    assert.equal(b.opens, 1);
    assert.equal(a.opens, 1);
  } finally {
    await client.close();
    await a.close();
    await b.close();
    await origin.close();
  }
});

test('a handler URL that refuses connections is skipped for the next one', async () => {
  const user = makeUser();
  const b = await startFakeHandler({ users: [user.publicKey] });
  const dead = `ws://127.0.0.1:${await closedPort()}/tunnel-test`;
  const log = captureLog();
  const client = await startClient(clientConfig([dead, b.url], b.clusterPublicKey, user), { logger: log.logger });
  try {
    await within(b.waitSessions(1), 10_000, 'session on B');
    const warned = await log.waitFor((l) => l['handler'] === 0 && l['level'] === 'warn');
    assert.match(String(warned['msg']), /Could not reach handler ws:\/\/127\.0\.0\.1:\d+/);
    assert.doesNotMatch(JSON.stringify(log.lines), /tunnel-test/, 'the secret path never reaches the log');
  } finally {
    await client.close();
    await b.close();
  }
});

test('with no session within the open timeout, SOCKS5 answers 0x01 and HTTP answers 502', async () => {
  const user = makeUser();
  const dead = `ws://127.0.0.1:${await closedPort()}/p`;
  const config = clientConfig([dead], user.publicKey, user, {}, { openTimeout: 300, reconnect: { min: 50, max: 100, jitter: 0 } });
  const client = await startClient(config, { logger: captureLog().logger });
  try {
    assert.equal(await socks5Reply(client.port, 'example.com', 80), 0x01);
    const s = await RawSocket.connect(client.port);
    s.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    assert.match((await s.readAll()).toString('latin1'), /^HTTP\/1\.1 502 /);
    s.destroy();
  } finally {
    await client.close();
  }
});

test('a handler that does not know the user key gets no session; the log names the Noise handshake', async () => {
  const user = makeUser();
  const stranger = makeUser();
  const h = await startFakeHandler({ users: [stranger.publicKey] });
  const log = captureLog();
  const client = await startClient(clientConfig([h.url], h.clusterPublicKey, user, {}, { handshakeTimeout: 400 }), { logger: log.logger });
  try {
    const line = await log.waitFor((l) => l['stage'] === 'handshake');
    assert.match(String(line['msg']), /Noise handshake with handler ws:\/\/127\.0\.0\.1:\d+ failed/);
    assert.equal(h.sessionsAccepted, 0);
  } finally {
    await client.close();
    await h.close();
  }
});

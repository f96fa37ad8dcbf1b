import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startClient, type RunningClient } from '../../client/main.ts';
import { OpenFailReason } from '../../shared/protocol/codes.ts';
import { startFakeHandler, type FakeHandler } from './fake-handler.ts';
import { captureLog, clientConfig, curl, makeUser, RawSocket, socks5Reply, startOrigin, within, type Origin } from './helpers.ts';

describe('local proxy through a test handler, with curl', () => {
  const user = makeUser();
  let handler: FakeHandler;
  let client: RunningClient;
  let origin4: Origin;
  let origin6: Origin;
  let proxy: string;
  const log = captureLog();

  before(async () => {
    origin4 = await startOrigin('127.0.0.1');
    origin6 = await startOrigin('::1');
    handler = await startFakeHandler({
      users: [user.publicKey],
      verdicts: {
        'blocked.test': OpenFailReason.NOT_ALLOWED,
        'quota.test': OpenFailReason.QUOTA_EXCEEDED,
        'unreachable.test': OpenFailReason.HOST_UNREACHABLE,
        'refused.test': OpenFailReason.CONNECTION_REFUSED,
        'nodns.test': OpenFailReason.DNS_FAILURE,
        'noexit.test': OpenFailReason.NO_EXIT,
        'slow.test': OpenFailReason.TIMEOUT,
        'busy.test': OpenFailReason.EXIT_UNAVAILABLE,
      },
    });
    client = await startClient(clientConfig([handler.url], handler.clusterPublicKey, user, { poolSize: 2 }), { logger: log.logger });
    proxy = `127.0.0.1:${client.port}`;
    await within(handler.waitSessions(2), 10_000, 'two sessions');
  });

  after(async () => {
    await client.close();
    await handler.close();
    await origin4.close();
    await origin6.close();
  });

  it('logs a ready line with the bound port', () => {
    const ready = log.lines.find((l) => l['msg'] === 'ready');
    assert.equal(ready?.['port'], client.port);
    assert.equal(ready?.['role'], 'client');
  });

  it('socks5h with the domain localhost reaches the origin (the name is resolved at the far end)', async () => {
    const r = await curl(['-x', `socks5h://${proxy}`, `http://localhost:${origin4.port}/a?b=1`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `hello GET /a?b=1 host=localhost:${origin4.port}\n`);
  });

  it('socks5h with an IPv4 literal and with an IPv6 literal reaches the origin', async () => {
    const v4 = await curl(['-x', `socks5h://${proxy}`, `http://127.0.0.1:${origin4.port}/v4`]);
    assert.equal(v4.code, 0, v4.stderr);
    assert.match(v4.stdout, /^hello GET \/v4 /);
    const v6 = await curl(['-x', `socks5h://${proxy}`, `http://[::1]:${origin6.port}/v6`]);
    assert.equal(v6.code, 0, v6.stderr);
    assert.match(v6.stdout, /^hello GET \/v6 host=\[::1\]/);
  });

  it('socks5 (client-side resolution, IPv4 target) works too', async () => {
    const r = await curl(['-x', `socks5://${proxy}`, `http://127.0.0.1:${origin4.port}/plain-socks`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^hello GET \/plain-socks /);
  });

  it('HTTP CONNECT tunnels a request (curl -p)', async () => {
    const r = await curl(['-p', '-x', `http://${proxy}`, `http://localhost:${origin4.port}/tunnelled`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `hello GET /tunnelled host=localhost:${origin4.port}\n`);
  });

  it('plain http:// forwarding relays one request and its body', async () => {
    const r = await curl(['-x', `http://${proxy}`, '--data-binary', 'payload=42', `http://localhost:${origin4.port}/post`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `hello POST /post host=localhost:${origin4.port} body=payload=42\n`);
    const get = await curl(['-x', `http://${proxy}`, `http://[::1]:${origin6.port}/six`]);
    assert.equal(get.code, 0, get.stderr);
    assert.match(get.stdout, /^hello GET \/six host=\[::1\]/);
  });

  it('moves 4 MiB each way intact through one SOCKS5 stream (backpressure and half-close)', async () => {
    const s = await RawSocket.connect(client.port);
    s.write(Buffer.from([5, 1, 0]));
    assert.deepEqual([...(await s.read(2))], [5, 0]);
    // A local echo server as the destination: half-close proves FIN travels both ways.
    const net = await import('node:net');
    const echo = net.createServer({ allowHalfOpen: true }, (c) => {
      c.pipe(c);
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', () => resolve()));
    const port = (echo.address() as { port: number }).port;
    try {
      s.write(Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, port >> 8, port & 0xff]));
      const reply = await s.read(10);
      assert.equal(reply[1], 0);
      const data = Buffer.alloc(4 << 20);
      for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 12)) & 0xff;
      s.write(data);
      const back = await s.readAll(30_000);
      assert.equal(back.length, data.length);
      assert.ok(back.equals(data));
    } finally {
      s.destroy();
      echo.close();
    }
  });

  it('answers SOCKS5 with the reply code of the OPEN_FAIL reason', async () => {
    const cases: Array<[string, number]> = [
      ['blocked.test', 0x02],
      ['quota.test', 0x02],
      ['unreachable.test', 0x04],
      ['refused.test', 0x05],
      ['nodns.test', 0x04],
      ['noexit.test', 0x03],
      ['slow.test', 0x06],
      ['busy.test', 0x01],
    ];
    for (const [host, rep] of cases) {
      assert.equal(await socks5Reply(client.port, host, 80), rep, host);
    }
  });

  it('answers 0x05 when the destination really refuses the connection', async () => {
    const net = await import('node:net');
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    assert.equal(await socks5Reply(client.port, 'localhost', port), 0x05);
  });

  it('answers HTTP CONNECT with the status of the OPEN_FAIL reason', async () => {
    const cases: Array<[string, string]> = [
      ['blocked.test', '403'],
      ['refused.test', '502'],
      ['slow.test', '504'],
      ['noexit.test', '503'],
    ];
    for (const [host, status] of cases) {
      const s = await RawSocket.connect(client.port);
      s.write(`CONNECT ${host}:443 HTTP/1.1\r\nHost: ${host}:443\r\n\r\n`);
      const answer = (await s.readAll()).toString('latin1');
      assert.match(answer, new RegExp(`^HTTP/1\\.1 ${status} `), host);
      s.destroy();
    }
  });

  it('refuses SOCKS4 with reply 0x5B and closes', async () => {
    const s = await RawSocket.connect(client.port);
    s.write(Buffer.from([4, 1, 0, 80, 127, 0, 0, 1, 0]));
    const answer = await s.readAll();
    assert.deepEqual([...answer], [0, 0x5b, 0, 0, 0, 0, 0, 0]);
  });

  it('never sent a destination name to a resolver on the client side (OPEN carries the name)', () => {
    // The verdicts above are keyed by name: they could only match if OPEN carried the domain.
    assert.ok(handler.opens >= 8);
  });
});

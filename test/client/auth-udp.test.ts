import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { startClient, type RunningClient } from '../../client/main.ts';
import { decodeSocks5Datagram, encodeSocks5Datagram } from '../../client/proxy/socks5-udp.ts';
import { TargetType } from '../../client/proxy/target.ts';
import { startFakeHandler, type FakeHandler } from './fake-handler.ts';
import { captureLog, clientConfig, curl, makeUser, RawSocket, startOrigin, within, type Origin } from './helpers.ts';

describe('proxy authentication (RFC 1929, Proxy-Authorization)', () => {
  const user = makeUser();
  let handler: FakeHandler;
  let client: RunningClient;
  let origin: Origin;

  before(async () => {
    origin = await startOrigin();
    handler = await startFakeHandler({ users: [user.publicKey] });
    const config = clientConfig([handler.url], handler.clusterPublicKey, user, { auth: { username: 'alice', password: 'wonder land' } });
    client = await startClient(config, { logger: captureLog().logger });
    await within(handler.waitSessions(1), 10_000, 'session');
  });

  after(async () => {
    await client.close();
    await handler.close();
    await origin.close();
  });

  it('lets SOCKS5 and HTTP clients in with the right username and password', async () => {
    const socks = await curl(['-x', `socks5h://alice:wonder%20land@127.0.0.1:${client.port}`, `http://localhost:${origin.port}/s`]);
    assert.equal(socks.code, 0, socks.stderr);
    const httpProxy = await curl(['-x', `http://alice:wonder%20land@127.0.0.1:${client.port}`, `http://localhost:${origin.port}/h`]);
    assert.equal(httpProxy.code, 0, httpProxy.stderr);
    assert.match(httpProxy.stdout, /^hello GET \/h /);
  });

  it('refuses a wrong password over SOCKS5 (status 1) and over HTTP (407), opening no stream', async () => {
    const opens = handler.opens;
    const s = await RawSocket.connect(client.port);
    s.write(Buffer.from([5, 1, 2]));
    assert.deepEqual([...(await s.read(2))], [5, 2]);
    s.write(Buffer.concat([Buffer.from([1, 5]), Buffer.from('alice'), Buffer.from([5]), Buffer.from('wrong')]));
    assert.deepEqual([...(await s.read(2))], [1, 1]);
    s.destroy();
    const r = await curl(['-x', `http://alice:nope@127.0.0.1:${client.port}`, '-o', '/dev/null', '-w', '%{http_code}', `http://localhost:${origin.port}/`]);
    assert.equal(r.stdout, '407');
    const none = await curl(['-x', `socks5h://127.0.0.1:${client.port}`, `http://localhost:${origin.port}/`]);
    assert.notEqual(none.code, 0);
    assert.equal(handler.opens, opens);
  });
});

describe('SOCKS5 UDP ASSOCIATE over DATAGRAM frames', () => {
  const user = makeUser();

  async function associate(port: number): Promise<{ control: RawSocket; relayPort: number }> {
    const control = await RawSocket.connect(port);
    control.write(Buffer.from([5, 1, 0]));
    assert.deepEqual([...(await control.read(2))], [5, 0]);
    control.write(Buffer.from([5, 3, 0, 1, 0, 0, 0, 0, 0, 0]));
    const reply = await control.read(10);
    return { control, relayPort: reply.length === 10 && reply[1] === 0 ? reply.readUInt16BE(8) : -reply[1]! };
  }

  it('relays a datagram to a UDP echo server and the answer back, with the source address', async () => {
    const handler = await startFakeHandler({ users: [user.publicKey] });
    const client = await startClient(clientConfig([handler.url], handler.clusterPublicKey, user), { logger: captureLog().logger });
    const echo = dgram.createSocket('udp4');
    echo.on('message', (msg, rinfo) => echo.send(Buffer.concat([Buffer.from('echo:'), msg]), rinfo.port, rinfo.address));
    await new Promise<void>((resolve) => echo.bind(0, '127.0.0.1', () => resolve()));
    const echoPort = echo.address().port;
    const app = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => app.bind(0, '127.0.0.1', () => resolve()));
    try {
      await within(handler.waitSessions(1), 10_000, 'session');
      const { control, relayPort } = await associate(client.port);
      assert.ok(relayPort > 0, `UDP ASSOCIATE answered ${-relayPort}`);
      const got = new Promise<Buffer>((resolve) => app.once('message', (m) => resolve(m)));
      const target = { addressType: TargetType.IPV4, host: '127.0.0.1', port: echoPort };
      // Datagrams are unreliable: resend a few times (bounded) until the answer arrives.
      for (let i = 0; i < 5; i++) {
        app.send(encodeSocks5Datagram(target, Buffer.from('ping')), relayPort, '127.0.0.1');
        const winner = await Promise.race([got, new Promise((r) => setTimeout(r, 500))]);
        if (winner !== undefined) break;
      }
      const answer = decodeSocks5Datagram(await within(got, 5000, 'UDP answer'));
      assert.equal(Buffer.from(answer.payload).toString(), 'echo:ping');
      assert.deepEqual(answer.target, target);
      control.destroy();
    } finally {
      app.close();
      echo.close();
      await client.close();
      await handler.close();
    }
  });

  it('answers 0x07 (command not supported) when the handler has no UDP capability', async () => {
    const handler = await startFakeHandler({ users: [user.publicKey], udp: false });
    const client = await startClient(clientConfig([handler.url], handler.clusterPublicKey, user), { logger: captureLog().logger });
    try {
      await within(handler.waitSessions(1), 10_000, 'session');
      const { control, relayPort } = await associate(client.port);
      assert.equal(relayPort, -0x07);
      control.destroy();
    } finally {
      await client.close();
      await handler.close();
    }
  });
});

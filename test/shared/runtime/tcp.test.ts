import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, hasCode } from '../../../shared/errors.ts';
import { dialTcp, listenTcp, type TcpConnection, type TcpListener } from '../../../shared/runtime/tcp.ts';
import { deferred, within } from './fixtures.ts';

const text = (chunks: Uint8Array[]): string => Buffer.concat(chunks).toString('utf8');

/** Collects data, FIN and close of one side. */
function watch(conn: TcpConnection): { chunks: Uint8Array[]; ended: Promise<void>; closed: Promise<Error | undefined> } {
  const chunks: Uint8Array[] = [];
  const ended = deferred();
  const closed = deferred<Error | undefined>();
  conn.onData((chunk) => chunks.push(chunk));
  conn.onEnd(() => ended.resolve());
  conn.onClose((error) => closed.resolve(error));
  return { chunks, ended: ended.promise, closed: closed.promise };
}

describe('TcpConnection over dialTcp() and listenTcp()', () => {
  let listener: TcpListener;
  let accepted = deferred<TcpConnection>();

  before(async () => {
    listener = await listenTcp({ hostname: '127.0.0.1', port: 0 }, (conn) => accepted.resolve(conn));
  });

  after(async () => {
    await listener.close();
  });

  async function pair(): Promise<[TcpConnection, TcpConnection]> {
    accepted = deferred<TcpConnection>();
    const client = await dialTcp('127.0.0.1', listener.port, { timeoutMs: 5_000 });
    const server = await within(accepted.promise, 5_000, 'accept');
    return [client, server];
  }

  it('carries bytes both ways and reports both ends of the connection', async () => {
    const [client, server] = await pair();
    assert.equal(client.remotePort, listener.port);
    assert.equal(server.remoteAddress, '127.0.0.1');
    assert.equal(server.remotePort, client.localPort);
    const atServer = watch(server);
    const atClient = watch(client);
    client.write(new TextEncoder().encode('ping'));
    client.end();
    await within(atServer.ended, 5_000, 'server sees FIN');
    assert.equal(Object.getPrototypeOf(atServer.chunks[0]), Uint8Array.prototype);
    server.write(new TextEncoder().encode('pong'));
    server.end();
    await within(atClient.ended, 5_000, 'client sees FIN');
    assert.equal(text(atClient.chunks), 'pong');
    assert.equal(await within(atClient.closed, 5_000, 'client close'), undefined);
    assert.equal(await within(atServer.closed, 5_000, 'server close'), undefined);
  });

  it('keeps the write side open after the peer half-closes (client first, then server first)', async () => {
    for (const first of ['client', 'server'] as const) {
      const [client, server] = await pair();
      const [closer, other] = first === 'client' ? [client, server] : [server, client];
      const atCloser = watch(closer);
      const atOther = watch(other);
      closer.write(new TextEncoder().encode('last words'));
      closer.end();
      await within(atOther.ended, 5_000, `${first} FIN reaches the peer`);
      assert.equal(text(atOther.chunks), 'last words');
      for (let i = 0; i < 3; i++) other.write(new TextEncoder().encode(`reply ${i};`));
      other.end();
      await within(atCloser.ended, 5_000, 'reply FIN');
      assert.equal(text(atCloser.chunks), 'reply 0;reply 1;reply 2;');
      await within(Promise.all([atCloser.closed, atOther.closed]), 5_000, 'both closed');
    }
  });

  it('write() returns false while the reader is paused and onDrain fires after resume()', async () => {
    const [client, server] = await pair();
    let received = 0;
    let target = Infinity;
    const all = deferred();
    server.pause();
    server.onData((chunk) => {
      received += chunk.byteLength;
      if (received >= target) all.resolve();
    });
    const chunk = new Uint8Array(64 << 10);
    let written = 0;
    let accepted = true;
    for (let i = 0; i < 4096 && accepted; i++) {
      accepted = client.write(chunk);
      written += chunk.byteLength;
    }
    assert.equal(accepted, false, 'write() never reported backpressure');
    assert.ok(client.bufferedAmount > 0);
    const drained = deferred();
    client.onDrain(() => drained.resolve());
    target = written;
    server.resume();
    await within(drained.promise, 10_000, 'drain');
    await within(all.promise, 10_000, 'every written byte');
    assert.equal(received, written);
    client.destroy();
    server.destroy();
  });

  it('a throwing onData handler destroys that connection and reaches onClose', async () => {
    const [client, server] = await pair();
    const closed = deferred<Error | undefined>();
    server.onClose((error) => closed.resolve(error));
    server.onData(() => {
      throw new Error('handler bug');
    });
    const atClient = watch(client);
    client.write(Uint8Array.of(1));
    assert.equal((await within(closed.promise, 5_000, 'server close'))?.message, 'handler bug');
    await within(atClient.ended, 5_000, 'client sees the FIN');
    client.destroy();
  });

  it('reset() aborts the connection and the peer sees a CLOSED error', async () => {
    const [client, server] = await pair();
    const atClient = watch(client);
    watch(server);
    server.reset();
    const error = await within(atClient.closed, 5_000, 'client close');
    assert.ok(hasCode(error, ErrorCode.CLOSED));
  });
});

describe('dialTcp() failures', () => {
  it('rejects with CONNECT_FAILED when nothing listens on the port', async () => {
    const probe = await listenTcp({ hostname: '127.0.0.1', port: 0 }, () => {});
    const port = probe.port;
    await probe.close();
    await assert.rejects(dialTcp('127.0.0.1', port, { timeoutMs: 5_000 }), (err) => {
      assert.ok(hasCode(err, ErrorCode.CONNECT_FAILED));
      assert.equal((err as Error & { cause: { code?: string } }).cause.code, 'ECONNREFUSED');
      return true;
    });
  });

  it('rejects with ABORTED for an already aborted signal and BAD_CONFIG for port 0', async () => {
    await assert.rejects(dialTcp('127.0.0.1', 9, { signal: AbortSignal.abort() }), (err) => hasCode(err, ErrorCode.ABORTED));
    await assert.rejects(dialTcp('127.0.0.1', 0), (err) => hasCode(err, ErrorCode.BAD_CONFIG));
  });

  it('listenTcp() rejects a taken port with BAD_CONFIG', async () => {
    const first = await listenTcp({ hostname: '127.0.0.1', port: 0 }, () => {});
    try {
      await assert.rejects(listenTcp({ hostname: '127.0.0.1', port: first.port }, () => {}), (err) => hasCode(err, ErrorCode.BAD_CONFIG));
    } finally {
      await first.close();
    }
  });
});

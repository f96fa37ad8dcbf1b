import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setImmediate as afterIo } from 'node:timers/promises';
import { SMALL_BATCH_BYTES, WriteBatch } from '../../../shared/runtime/write-batch.ts';

describe('WriteBatch', () => {
  let server: net.Server;
  let client: net.Socket;
  let peer: net.Socket;
  const received: Buffer[] = [];

  before(async () => {
    server = net.createServer();
    const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    client = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => client.once('connect', resolve));
    peer = await accepted;
    peer.on('data', (c: Buffer) => received.push(c));
  });

  after(() => {
    client.destroy();
    peer.destroy();
    server.close();
  });

  it('releases a small batch at the end of the current job, in order', async () => {
    const batch = new WriteBatch(client);
    for (const part of ['a', 'b', 'c']) {
      batch.hold();
      client.write(part);
    }
    assert.equal(client.writableCorked, 1, 'held while the job runs');
    assert.equal(client.writableLength, 3, 'nothing reached the kernel yet');
    await Promise.resolve();
    await Promise.resolve();
    assert.equal(client.writableCorked, 0, 'released before the next loop turn');
    const deadline = Date.now() + 5_000;
    while (Buffer.concat(received).toString() !== 'abc' && Date.now() < deadline) await afterIo();
    assert.equal(Buffer.concat(received).toString(), 'abc');
  });

  it('keeps a large batch until the I/O callbacks of the loop turn are done', async () => {
    const batch = new WriteBatch(client);
    batch.hold();
    client.write(Buffer.alloc(SMALL_BATCH_BYTES, 1));
    await Promise.resolve();
    await Promise.resolve();
    assert.equal(client.writableCorked, 1, 'still held after the job');
    await afterIo();
    await afterIo();
    assert.equal(client.writableCorked, 0, 'released after the loop turn');
  });

  it('does not uncork a destroyed socket', async () => {
    const socket = new net.Socket();
    const batch = new WriteBatch(socket);
    batch.hold();
    socket.destroy();
    await afterIo();
    await afterIo();
    assert.equal(socket.writableCorked, 1, 'left alone once destroyed');
  });
});

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, hasCode } from '../../../shared/errors.ts';
import { bindUdp, type UdpPeer } from '../../../shared/runtime/udp.ts';
import { deferred, within } from './fixtures.ts';

it('bindUdp() sockets exchange datagrams on 127.0.0.1 and report the sender', async () => {
  const a = await bindUdp({ hostname: '127.0.0.1' });
  const b = await bindUdp({ hostname: '127.0.0.1' });
  try {
    assert.equal(a.family, 4);
    assert.ok(a.port > 0);
    const atB = deferred<[Uint8Array, UdpPeer]>();
    b.onMessage((data, from) => atB.resolve([data, from]));
    a.send(Uint8Array.of(1, 2, 3), b.port, '127.0.0.1');
    const [data, from] = await within(atB.promise, 5_000, 'datagram at b');
    assert.deepEqual(data, Uint8Array.of(1, 2, 3));
    assert.equal(Object.getPrototypeOf(data), Uint8Array.prototype);
    assert.deepEqual(from, { address: '127.0.0.1', port: a.port });
    const atA = deferred<Uint8Array>();
    a.onMessage((reply) => atA.resolve(reply));
    b.send(Uint8Array.of(9), from.port, from.address);
    assert.deepEqual(await within(atA.promise, 5_000, 'reply at a'), Uint8Array.of(9));
  } finally {
    await a.close();
    await b.close();
  }
});

it('send() after close() reports a CLOSED error instead of throwing', async () => {
  const a = await bindUdp({ hostname: '127.0.0.1' });
  await a.close();
  const failed = deferred<Error>();
  a.onError((error) => failed.resolve(error));
  a.send(Uint8Array.of(1), 9, '127.0.0.1');
  assert.ok(hasCode(await within(failed.promise, 1_000, 'error'), ErrorCode.CLOSED));
});

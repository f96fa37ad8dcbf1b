import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSocks5Datagram, encodeSocks5Datagram } from '../../../client/proxy/socks5-udp.ts';
import { TargetType } from '../../../client/proxy/target.ts';
import { ErrorCode } from '../../../shared/errors.ts';

test('a UDP relay datagram round-trips target and payload with FRAG 0', () => {
  const target = { addressType: TargetType.DOMAIN, host: 'dns.example', port: 53 } as const;
  const payload = new Uint8Array([1, 2, 3]);
  const enc = encodeSocks5Datagram(target, payload);
  assert.deepEqual(Array.from(enc.subarray(0, 4)), [0, 0, 0, 3]);
  const dec = decodeSocks5Datagram(enc);
  assert.equal(dec.frag, 0);
  assert.deepEqual(dec.target, target);
  assert.deepEqual(Array.from(dec.payload), [1, 2, 3]);
});

test('decodeSocks5Datagram() reports FRAG so the caller can drop fragments', () => {
  const enc = encodeSocks5Datagram({ addressType: TargetType.IPV4, host: '8.8.8.8', port: 53 }, new Uint8Array(0));
  enc[2] = 1;
  assert.equal(decodeSocks5Datagram(enc).frag, 1);
});

test('decodeSocks5Datagram() throws TRUNCATED or BAD_ADDRESS on bad input', () => {
  assert.throws(() => decodeSocks5Datagram(new Uint8Array([0, 0, 0])), (e: Error & { code?: string }) => e.code === ErrorCode.TRUNCATED);
  assert.throws(() => decodeSocks5Datagram(new Uint8Array([0, 0, 0, 1, 8, 8])), (e: Error & { code?: string }) => e.code === ErrorCode.TRUNCATED);
  assert.throws(() => decodeSocks5Datagram(new Uint8Array([0, 0, 0, 9, 0, 0])), (e: Error & { code?: string }) => e.code === ErrorCode.BAD_ADDRESS);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cidrContains, normalizeMappedCidr, parseCidr } from '../../../exit/egress/cidr.ts';
import { parseIP } from '../../../shared/net/ip.ts';
import { ErrorCode } from '../../../shared/errors.ts';

const inside = (cidr: string, ip: string) => cidrContains(parseCidr(cidr), parseIP(ip)!.bytes);

test('parseCidr() reads IPv4 and IPv6 prefixes and canonicalises the text', () => {
  assert.equal(parseCidr('10.0.0.0/8').text, '10.0.0.0/8');
  assert.equal(parseCidr('2001:0DB8::/32').text, '2001:db8::/32');
  assert.equal(parseCidr('192.0.2.7').prefix, 32);
  assert.equal(parseCidr('::1').prefix, 128);
  assert.equal(parseCidr('0.0.0.0/0').prefix, 0);
});

test('parseCidr() refuses bad values with BAD_CONFIG naming the field and value', () => {
  for (const bad of ['10.0.0.1/8', '10.0.0.0/33', '10.0.0.0/08', '10.0.0.0/', '::/129', 'fe80::%1/64', 'example.com/8', '10.0.0.0/-1', '']) {
    assert.throws(
      () => parseCidr(bad, 'egress.allow[3]'),
      (err: Error & { code?: string }) =>
        err instanceof RangeError && err.code === ErrorCode.BAD_CONFIG && err.message.includes('egress.allow[3]'),
      bad,
    );
  }
});

test('cidrContains() matches on prefix bits, including non-octet boundaries', () => {
  assert.ok(inside('172.16.0.0/12', '172.31.255.255'));
  assert.ok(!inside('172.16.0.0/12', '172.32.0.0'));
  assert.ok(inside('fe80::/10', 'febf::1'));
  assert.ok(!inside('fe80::/10', 'fec0::1'));
  assert.ok(inside('0.0.0.0/0', '8.8.8.8'));
  assert.ok(!inside('0.0.0.0/0', '::1'), 'families never match');
});

test('normalizeMappedCidr() turns ::ffff:a.b.c.d/n into the IPv4 prefix it means', () => {
  const c = normalizeMappedCidr(parseCidr('::ffff:10.0.0.0/104'));
  assert.equal(c.family, 4);
  assert.equal(c.text, '10.0.0.0/8');
  assert.equal(normalizeMappedCidr(parseCidr('2001:db8::/32')).family, 6);
});

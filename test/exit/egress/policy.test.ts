import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEgressPolicy, LOOPBACK_ALLOW, type EgressDenyReason } from '../../../exit/egress/policy.ts';
import { ErrorCode } from '../../../shared/errors.ts';

const strict = createEgressPolicy();
const reasonOf = (ip: string, policy = strict): EgressDenyReason | 'allowed' => {
  const d = policy.check(ip);
  return d.allowed ? 'allowed' : d.reason;
};

test('the default policy refuses every non-public IPv4 range with a specific reason', () => {
  const cases: Array<[string, EgressDenyReason]> = [
    ['0.0.0.0', 'unspecified'], ['0.1.2.3', 'unspecified'],
    ['10.0.0.1', 'private'], ['172.16.0.1', 'private'], ['172.31.255.254', 'private'], ['192.168.1.1', 'private'],
    ['127.0.0.1', 'loopback'], ['127.255.255.254', 'loopback'],
    ['169.254.1.1', 'link_local'], ['100.64.0.1', 'cgnat'], ['100.127.255.255', 'cgnat'],
    ['224.0.0.1', 'multicast'], ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'], ['255.255.255.255', 'broadcast'], ['192.0.0.8', 'reserved'], ['192.88.99.1', 'reserved'],
    ['192.0.2.1', 'documentation'], ['198.51.100.7', 'documentation'], ['203.0.113.9', 'documentation'],
    ['198.18.0.1', 'benchmarking'], ['198.19.255.255', 'benchmarking'],
    ['169.254.169.254', 'metadata'], ['169.254.170.2', 'metadata'], ['100.100.100.200', 'metadata'], ['168.63.129.16', 'metadata'],
  ];
  for (const [ip, reason] of cases) assert.equal(reasonOf(ip), reason, ip);
});

test('the default policy allows public IPv4 addresses next to the refused ranges', () => {
  for (const ip of ['8.8.8.8', '1.1.1.1', '172.15.255.255', '172.32.0.0', '100.63.255.255', '100.128.0.0', '11.0.0.0', '9.255.255.255', '198.17.255.255', '198.20.0.0', '223.255.255.255', '192.0.1.255', '169.253.255.255']) {
    assert.equal(reasonOf(ip), 'allowed', ip);
  }
});

test('the default policy refuses every non-public IPv6 range with a specific reason', () => {
  const cases: Array<[string, EgressDenyReason]> = [
    ['::', 'unspecified'], ['::1', 'loopback'], ['fe80::1', 'link_local'], ['febf:ffff::1', 'link_local'],
    ['fc00::1', 'unique_local'], ['fd12:3456::1', 'unique_local'], ['fec0::1', 'site_local'],
    ['ff02::1', 'multicast'], ['ff05::1:3', 'multicast'], ['2001:db8::1', 'documentation'], ['3fff::1', 'documentation'],
    ['2001:2::1', 'benchmarking'], ['2001:10::1', 'reserved'], ['100::1', 'reserved'], ['64:ff9b:1::1', 'reserved'],
    ['fd00:ec2::254', 'metadata'], ['4000::1', 'reserved'], ['5f00::1', 'reserved'], ['1::1', 'reserved'], ['::2:1', 'unspecified'],
  ];
  for (const [ip, reason] of cases) assert.equal(reasonOf(ip), reason, ip);
});

test('the default policy allows global unicast IPv6', () => {
  for (const ip of ['2606:4700:4700::1111', '2001:4860:4860::8888', '2a00:1450::1', '3ffe::1']) {
    assert.equal(reasonOf(ip), 'allowed', ip);
  }
});

test('IPv4-mapped, -translated and -compatible IPv6 are judged as the IPv4 they reach', () => {
  assert.equal(reasonOf('::ffff:127.0.0.1'), 'loopback');
  assert.equal(reasonOf('::ffff:7f00:1'), 'loopback');
  assert.equal(reasonOf('::ffff:0:10.0.0.1'), 'private');
  assert.equal(reasonOf('::169.254.169.254'), 'metadata');
  assert.equal(reasonOf('::ffff:8.8.8.8'), 'allowed');
  const d = strict.check('::ffff:192.168.0.1');
  assert.equal(d.address, '192.168.0.1');
});

test('NAT64, 6to4 and Teredo addresses are refused when the IPv4 inside them is', () => {
  assert.equal(reasonOf('64:ff9b::10.0.0.1'), 'private');
  assert.equal(reasonOf('64:ff9b::169.254.169.254'), 'metadata');
  assert.equal(reasonOf('64:ff9b::8.8.8.8'), 'allowed');
  assert.equal(reasonOf('2002:7f00:1::1'), 'loopback'); // 6to4 of 127.0.0.1
  assert.equal(reasonOf('2002:0808:0808::1'), 'allowed');
  // Teredo: server 65.54.227.120, client 192.168.0.1 obfuscated as 3f57:fffe.
  assert.equal(reasonOf('2001:0:4136:e378:8000:63bf:3f57:fffe'), 'private');
  // Teredo with a public client 8.8.4.4 (inverted f7f7:fbfb) but a private server.
  assert.equal(reasonOf('2001:0:0a00:0001:8000:63bf:f7f7:fbfb'), 'private');
  assert.equal(reasonOf('2001:0:4136:e378:8000:63bf:f7f7:fbfb'), 'allowed');
  const d = strict.check('64:ff9b::a00:1');
  assert.ok(!d.allowed && d.rule === '64:ff9b::/96 -> 10.0.0.0/8');
});

test('unparsable input, zone ids and names are refused as invalid, never resolved', () => {
  for (const ip of ['fe80::1%eth0', 'localhost', '0177.0.0.1', '127.1', '', '::ffff:1.2.3']) {
    const d = strict.check(ip);
    assert.ok(!d.allowed && d.reason === 'invalid' && d.address === null, ip);
  }
  assert.equal(strict.checkBytes(new Uint8Array(5)).allowed, false);
});

test('an allowlist opens ranges and covers the mapped IPv6 form of an allowed IPv4', () => {
  const dev = createEgressPolicy({ allow: LOOPBACK_ALLOW });
  assert.equal(reasonOf('127.0.0.1', dev), 'allowed');
  assert.equal(reasonOf('::ffff:127.0.0.1', dev), 'allowed');
  assert.equal(reasonOf('::1', dev), 'allowed');
  assert.equal(reasonOf('10.0.0.1', dev), 'private');
  assert.equal(reasonOf('169.254.169.254', dev), 'metadata');
});

test('the longest operator rule wins and deny wins a tie', () => {
  const p = createEgressPolicy({ allow: ['10.0.0.0/8', '1.2.3.0/24', '8.8.8.8/32'], deny: ['10.0.0.5/32', '1.2.0.0/16', '8.8.8.8'] });
  assert.equal(reasonOf('10.9.9.9', p), 'allowed');
  assert.equal(reasonOf('10.0.0.5', p), 'denied');
  assert.equal(reasonOf('1.2.3.4', p), 'allowed');
  assert.equal(reasonOf('1.2.4.4', p), 'denied');
  assert.equal(reasonOf('8.8.8.8', p), 'denied');
  const d = p.check('1.2.4.4');
  assert.ok(!d.allowed && d.rule === '1.2.0.0/16');
});

test('a mapped IPv6 rule in config applies to the IPv4 it denotes', () => {
  const p = createEgressPolicy({ allow: ['::ffff:10.0.0.0/104'] });
  assert.equal(reasonOf('10.1.1.1', p), 'allowed');
  assert.equal(reasonOf('::ffff:10.1.1.1', p), 'allowed');
});

test('an allowed IPv4 range also opens NAT64 and 6to4 forms of it', () => {
  const p = createEgressPolicy({ allow: ['10.0.0.0/8'] });
  assert.equal(reasonOf('64:ff9b::10.0.0.1', p), 'allowed');
});

test('createEgressPolicy() rejects bad entries with BAD_CONFIG naming the entry', () => {
  const isBad = (field: string) => (err: Error & { code?: string }) =>
    err.code === ErrorCode.BAD_CONFIG && err.message.includes(field);
  assert.throws(() => createEgressPolicy({ allow: ['127.0.0.0/8', '10.0.0.1/8'] }), isBad('egress.allow[1]'));
  assert.throws(() => createEgressPolicy({ deny: ['nope'], field: 'exit.egress' }), isBad('exit.egress.deny[0]'));
  assert.throws(() => createEgressPolicy({ allow: '10.0.0.0/8' as unknown as string[] }), isBad('egress.allow'));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  embeddedIPv4,
  formatIP,
  formatIPv6,
  parseIP,
  parseIPv4,
  parseIPv6,
} from '../../../shared/net/ip.ts';

const hex = (b: Uint8Array | null) => (b === null ? null : Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(''));

test('parseIPv4() accepts dotted quads and returns network-order bytes', () => {
  assert.equal(hex(parseIPv4('192.0.2.1')), 'c0000201');
  assert.equal(hex(parseIPv4('0.0.0.0')), '00000000');
  assert.equal(hex(parseIPv4('255.255.255.255')), 'ffffffff');
});

test('parseIPv4() refuses spellings a resolver never produces (octal, short, hex, signs)', () => {
  for (const bad of ['010.0.0.1', '127.1', '0x7f.0.0.1', '1.2.3', '1.2.3.4.5', '256.0.0.1', '1.2.3.-4', ' 1.2.3.4', '1.2.3.4 ', '1..3.4', '', '1.2.3.4/8', '١.2.3.4']) {
    assert.equal(parseIPv4(bad), null, bad);
  }
});

test('parseIPv6() accepts every RFC 4291 text form', () => {
  assert.equal(hex(parseIPv6('::')), '0'.repeat(32));
  assert.equal(hex(parseIPv6('::1')), '0'.repeat(31) + '1');
  assert.equal(hex(parseIPv6('1::')), '0001' + '0'.repeat(28));
  assert.equal(hex(parseIPv6('2001:DB8::8:800:200C:417A')), '20010db80000000000080800200c417a');
  assert.equal(hex(parseIPv6('2001:db8:0:0:8:800:200c:417a')), '20010db80000000000080800200c417a');
  assert.equal(hex(parseIPv6('::ffff:1.2.3.4')), '00000000000000000000ffff01020304');
  assert.equal(hex(parseIPv6('::ffff:0:1.2.3.4')), '0000000000000000ffff000001020304');
  assert.equal(hex(parseIPv6('64:ff9b::192.0.2.33')), '0064ff9b0000000000000000c0000221');
  assert.equal(hex(parseIPv6('1:2:3:4:5:6:7::')), '00010002000300040005000600070000');
  assert.equal(hex(parseIPv6('::2:3:4:5:6:7:8')), '00000002000300040005000600070008');
  assert.equal(hex(parseIPv6('1:2:3:4:5:6:1.2.3.4')), '00010002000300040005000601020304');
});

test('parseIPv6() refuses zone ids, extra groups, stray colons and bad IPv4 tails', () => {
  for (const bad of [
    'fe80::1%eth0', 'fe80::1%25eth0', ':::', '1:::2', '1::2::3', ':1', '1:', '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8::', '::1:2:3:4:5:6:7:8', '12345::', 'g::', '::1.2.3', '::1.2.3.4:5',
    '1.2.3.4::', '::ffff:010.0.0.1', '[::1]', '', ':', '1:2:3:4:5:6:7:1.2.3.4',
  ]) {
    assert.equal(parseIPv6(bad), null, bad);
  }
});

test('parseIP() dispatches on the presence of a colon', () => {
  assert.equal(parseIP('10.0.0.1')?.family, 4);
  assert.equal(parseIP('::1')?.family, 6);
  assert.equal(parseIP('example.com'), null);
});

test('formatIPv6() produces RFC 5952 canonical text', () => {
  const round = (s: string) => formatIPv6(parseIPv6(s) as Uint8Array);
  assert.equal(round('2001:0DB8:0000:0000:0000:0000:0000:0001'), '2001:db8::1');
  assert.equal(round('2001:db8:0:1:0:0:0:1'), '2001:db8:0:1::1');
  assert.equal(round('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1'); // first run wins a tie
  assert.equal(round('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1'); // single zero not compressed
  assert.equal(round('::'), '::');
  assert.equal(round('::1'), '::1');
  assert.equal(round('1::'), '1::');
  assert.equal(round('::ffff:7f00:1'), '::ffff:127.0.0.1');
  assert.equal(formatIP(new Uint8Array([10, 0, 0, 1])), '10.0.0.1');
  assert.throws(() => formatIP(new Uint8Array(5)), RangeError);
});

test('embeddedIPv4() unwraps mapped, translated and compatible forms but not :: or ::1', () => {
  const v4 = (s: string) => {
    const r = embeddedIPv4(parseIPv6(s) as Uint8Array);
    return r === null ? null : formatIP(r);
  };
  assert.equal(v4('::ffff:127.0.0.1'), '127.0.0.1');
  assert.equal(v4('::ffff:0:10.1.2.3'), '10.1.2.3');
  assert.equal(v4('::192.168.0.1'), '192.168.0.1');
  assert.equal(v4('::'), null);
  assert.equal(v4('::1'), null);
  assert.equal(v4('2001:db8::1'), null);
});

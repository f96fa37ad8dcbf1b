import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AddressType,
  formatIPv4,
  formatIPv6,
  fromHex,
  parseIPv4,
  parseIPv6,
  toEndpoint,
  toHex,
} from '../../../shared/protocol/index.ts';

describe('IPv4 literals', () => {
  it('parseIPv4() reads a dotted quad', () => {
    assert.equal(toHex(parseIPv4('93.184.216.34')!), '5db8d822');
    assert.equal(toHex(parseIPv4('0.0.0.0')!), '00000000');
    assert.equal(toHex(parseIPv4('255.255.255.255')!), 'ffffffff');
  });

  it('parseIPv4() refuses leading zeros, shorthand, overflow and junk', () => {
    for (const bad of ['01.2.3.4', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.-4', '1.2.3.4 ', '', 'a.b.c.d', '1..3.4', '0x1.2.3.4']) {
      assert.equal(parseIPv4(bad), null, bad);
    }
  });

  it('formatIPv4() writes a dotted quad', () => {
    assert.equal(formatIPv4(fromHex('c0a80001')), '192.168.0.1');
  });
});

describe('IPv6 literals', () => {
  const cases: [string, string, string][] = [
    // [input, bytes, RFC 5952 text]
    ['::', '00000000000000000000000000000000', '::'],
    ['::1', '00000000000000000000000000000001', '::1'],
    ['2001:DB8::1', '20010db8000000000000000000000001', '2001:db8::1'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '20010db8000000000000000000000001', '2001:db8::1'],
    ['1:0:0:1:0:0:0:1', '00010000000000010000000000000001', '1:0:0:1::1'],
    ['1:0:0:1:1:0:0:1', '00010000000000010001000000000001', '1::1:1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '20010db8000000010001000100010001', '2001:db8:0:1:1:1:1:1'],
    ['fe80::', 'fe800000000000000000000000000000', 'fe80::'],
    // RFC 5952 section 5: an IPv4-mapped address keeps its dotted tail.
    ['::ffff:192.0.2.1', '00000000000000000000ffffc0000201', '::ffff:192.0.2.1'],
    ['64:ff9b::198.51.100.7', '0064ff9b0000000000000000c6336407', '64:ff9b::c633:6407'],
    ['1:2:3:4:5:6:7::', '00010002000300040005000600070000', '1:2:3:4:5:6:7:0'],
  ];
  for (const [input, hex, text] of cases) {
    it(`parseIPv6("${input}") gives ${hex} and formats as ${text}`, () => {
      const b = parseIPv6(input);
      assert.ok(b !== null);
      assert.equal(toHex(b), hex);
      assert.equal(formatIPv6(b), text);
    });
  }

  it('parseIPv6() refuses malformed text', () => {
    for (const bad of [
      '',
      ':',
      ':::',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7:8::',
      '12345::',
      'g::',
      ':1::',
      '1::2:',
      'fe80::1%eth0',
      '::1.2.3',
      '::1.2.3.4:5',
      '1.2.3.4',
    ]) {
      assert.equal(parseIPv6(bad), null, bad);
    }
  });
});

describe('toEndpoint()', () => {
  it('classifies IPv4, IPv6 (bare or bracketed) and domain hosts', () => {
    assert.deepEqual(toEndpoint('10.1.2.3', 80), { addressType: AddressType.IPV4, host: '10.1.2.3', port: 80 });
    assert.deepEqual(toEndpoint('[2001:DB8:0::1]', 443), { addressType: AddressType.IPV6, host: '2001:db8::1', port: 443 });
    assert.deepEqual(toEndpoint('::1', 1), { addressType: AddressType.IPV6, host: '::1', port: 1 });
    assert.deepEqual(toEndpoint('example.com', 8080), { addressType: AddressType.DOMAIN, host: 'example.com', port: 8080 });
    assert.deepEqual(toEndpoint('010.1.2.3', 1), { addressType: AddressType.DOMAIN, host: '010.1.2.3', port: 1 });
  });
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectProxyProtocol, socks4Rejection } from '../../../client/proxy/detect.ts';
import { constantTimeEqual, matchCredentials } from '../../../client/proxy/auth.ts';
import { PROXY_FAILURES, httpStatusForFailure, socks5ReplyForFailure } from '../../../client/proxy/failure.ts';
import { formatTarget, isValidDomain, TargetType, targetFromHost } from '../../../client/proxy/target.ts';

const enc = (s: string) => new TextEncoder().encode(s);

test('detectProxyProtocol() classifies a connection by its first byte', () => {
  assert.equal(detectProxyProtocol(new Uint8Array([0x05, 0x01, 0x00])), 'socks5');
  for (const m of ['CONNECT', 'GET', 'POST', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'PATCH']) {
    assert.equal(detectProxyProtocol(enc(m)), 'http', m);
  }
  assert.equal(detectProxyProtocol(new Uint8Array([0x04, 0x01])), 'socks4');
  assert.equal(detectProxyProtocol(new Uint8Array([0x16, 0x03, 0x01])), 'tls');
  assert.equal(detectProxyProtocol(enc('get')), 'unknown');
  assert.equal(detectProxyProtocol(new Uint8Array([0x00])), 'unknown');
  assert.equal(detectProxyProtocol(new Uint8Array(0)), 'need_more');
  assert.deepEqual(Array.from(socks4Rejection()), [0, 0x5b, 0, 0, 0, 0, 0, 0]);
});

test('constantTimeEqual() is a correct equality over bytes of any length', () => {
  assert.ok(constantTimeEqual(enc('abc'), enc('abc')));
  assert.ok(constantTimeEqual(new Uint8Array(0), new Uint8Array(0)));
  assert.ok(!constantTimeEqual(enc('abc'), enc('abd')));
  assert.ok(!constantTimeEqual(enc('ab'), enc('abc')));
  assert.ok(!constantTimeEqual(enc('abcabc'), enc('abc')), 'a repeat of the secret is not equal');
  assert.ok(!constantTimeEqual(new Uint8Array(0), enc('a')));
  assert.ok(!constantTimeEqual(enc('a'), new Uint8Array(0)));
});

test('matchCredentials() needs both fields of the same entry', () => {
  const users = [{ username: 'a', password: '1' }, { username: 'b', password: '2' }];
  assert.equal(matchCredentials(users, enc('b'), enc('2')), 'b');
  assert.equal(matchCredentials(users, enc('a'), enc('2')), null);
  assert.equal(matchCredentials([], enc('a'), enc('1')), null);
});

test('every failure reason maps to the RFC 1928 code and HTTP status in the table', () => {
  assert.equal(socks5ReplyForFailure('policy'), 0x02);
  assert.equal(socks5ReplyForFailure('unreachable_net'), 0x03);
  assert.equal(socks5ReplyForFailure('unreachable_host'), 0x04);
  assert.equal(socks5ReplyForFailure('refused'), 0x05);
  assert.equal(socks5ReplyForFailure('timeout'), 0x06);
  assert.equal(socks5ReplyForFailure('unsupported_command'), 0x07);
  assert.equal(socks5ReplyForFailure('unsupported_address'), 0x08);
  assert.equal(socks5ReplyForFailure('general'), 0x01);
  assert.equal(httpStatusForFailure('policy'), 403);
  assert.equal(httpStatusForFailure('timeout'), 504);
  assert.equal(httpStatusForFailure('no_exit'), 503);
  for (const [reason, r] of Object.entries(PROXY_FAILURES)) {
    assert.ok(r.socks5 >= 1 && r.socks5 <= 8, reason);
    assert.ok(r.httpStatus >= 400 && r.httpStatus < 600, reason);
  }
});

test('targetFromHost() classifies hosts and refuses characters that confuse later parsers', () => {
  assert.deepEqual(targetFromHost('::ffff:1.2.3.4', 1), { addressType: TargetType.IPV6, host: '::ffff:1.2.3.4', port: 1 });
  assert.deepEqual(targetFromHost('Sub_1.Example.', 2), { addressType: TargetType.DOMAIN, host: 'sub_1.example.', port: 2 });
  assert.equal(targetFromHost('bücher.example', 3)?.addressType, TargetType.DOMAIN);
  for (const bad of ['', 'a b', 'a/b', 'a@b', 'a%b', '.a', 'a..b', 'x'.repeat(256), '1:2', 'fe80::1%1']) {
    assert.equal(targetFromHost(bad, 80), null, bad);
  }
  assert.equal(targetFromHost('a.example', 65536), null);
  assert.equal(targetFromHost('a.example', 1.5), null);
  assert.ok(isValidDomain('x'.repeat(255)));
  assert.equal(formatTarget({ addressType: TargetType.IPV6, host: '::1', port: 443 }), '[::1]:443');
  assert.equal(formatTarget({ addressType: TargetType.DOMAIN, host: 'a.example', port: 80 }), 'a.example:80');
});

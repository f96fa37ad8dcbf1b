import { it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, hasCode } from '../../../shared/errors.ts';
import { certificateSha256, loadServerTls, parsePinSha256, pemToDer, pinOfPem } from '../../../shared/runtime/tls.ts';
import { makeTestCert, SKIP_WITHOUT_OPENSSL, type TestCert } from './fixtures.ts';

const HEX = '6a09e667bb67ae853c6ef372a54ff53a510e527f9b05688c1f83d9ab5be0cd19';

it('parsePinSha256() reads lower hex, openssl colon hex and base64 as the same 32 bytes', () => {
  const bytes = parsePinSha256(HEX);
  assert.equal(bytes.byteLength, 32);
  assert.deepEqual(parsePinSha256(HEX.toUpperCase().match(/../g)!.join(':')), bytes);
  assert.deepEqual(parsePinSha256(Buffer.from(HEX, 'hex').toString('base64')), bytes);
});

it('parsePinSha256() rejects wrong lengths and alphabets with BAD_CONFIG', () => {
  for (const bad of ['', HEX.slice(2), `${HEX}00`, 'zz'.repeat(32), 'sha256//abc', Buffer.alloc(31).toString('base64')]) {
    assert.throws(() => parsePinSha256(bad), (err) => hasCode(err, ErrorCode.BAD_CONFIG), bad);
  }
});

it('certificateSha256() is SHA-256 over the DER bytes (FIPS 180-2 "abc" vector)', () => {
  const digest = certificateSha256(new TextEncoder().encode('abc'));
  assert.equal(Buffer.from(digest).toString('hex'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

it('pinOfPem() matches the fingerprint openssl prints', { skip: SKIP_WITHOUT_OPENSSL }, () => {
  const cert = makeTestCert() as TestCert;
  try {
    const pin = pinOfPem(cert.cert);
    assert.equal(pin.hex, cert.fingerprint.replaceAll(':', '').toLowerCase());
    assert.deepEqual(parsePinSha256(pin.base64), parsePinSha256(cert.fingerprint));
    assert.equal(pemToDer(cert.cert)[0], 0x30, 'DER starts with a SEQUENCE');
  } finally {
    cert.dispose();
  }
});

it('pemToDer() and loadServerTls() reject missing material with BAD_CONFIG', () => {
  assert.throws(() => pemToDer('not a certificate'), (err) => hasCode(err, ErrorCode.BAD_CONFIG));
  assert.throws(() => loadServerTls({ cert: 'x' }), (err) => hasCode(err, ErrorCode.BAD_CONFIG));
  assert.throws(() => loadServerTls({ certFile: '/nonexistent/cert.pem', keyFile: '/nonexistent/key.pem' }), (err) => hasCode(err, ErrorCode.BAD_CONFIG));
});

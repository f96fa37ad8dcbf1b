import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../../../shared/errors.ts';
import { decodeKey, derivePublicKey, encodeKey, generateKeyPair, generatePrivateKey } from '../../../shared/crypto/keys.ts';
import { encodeBase64url, tryDecodeBase64url } from '../../../shared/crypto/base64url.ts';
import { backends, hex, seededBytes } from './helpers.ts';

describe('key encoding', () => {
  it('encodes 32 bytes as 43 unpadded base64url characters and decodes them back', () => {
    const key = hex('fbff00010203040506070809fe0a0b0c0d0e0f101112131415161718191a1b1c');
    const text = encodeKey(key);
    assert.equal(text, '-_8AAQIDBAUGBwgJ_goLDA0ODxAREhMUFRYXGBkaGxw');
    assert.deepEqual(decodeKey(text), key);
    assert.deepEqual(decodeKey(`  ${text}\n`), key);
  });

  it('matches RFC 4648 base64url on every length', () => {
    const rand = seededBytes(1);
    for (let n = 0; n < 40; n++) {
      const bytes = rand(n);
      const expected = btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      assert.equal(encodeBase64url(bytes), expected);
      assert.deepEqual(tryDecodeBase64url(expected), bytes);
    }
  });

  it('names the length as the problem with a short, long or padded key', () => {
    const good = encodeKey(new Uint8Array(32).fill(7));
    for (const bad of [good.slice(1), `${good}A`, `${good}=`, '']) {
      assert.throws(() => decodeKey(bad, 'users[0].publicKey'), (err: Error & { code?: string }) => {
        assert.equal(err.code, ErrorCode.BAD_KEY);
        assert.match(err.message, /users\[0\]\.publicKey/);
        assert.match(err.message, /characters/);
        return true;
      });
    }
  });

  it('names the offending character for standard base64 or other alphabets', () => {
    const good = encodeKey(new Uint8Array(32).fill(0xfb));
    for (const [bad, char] of [[`+${good.slice(1)}`, '+'], [`${good.slice(0, 10)}/${good.slice(11)}`, '/'], [`${good.slice(0, 5)}é${good.slice(6)}`, 'é']] as const) {
      assert.throws(() => decodeKey(bad), (err: Error & { code?: string }) => {
        assert.equal(err.code, ErrorCode.BAD_KEY);
        assert.ok(err.message.includes(`"${char}"`), err.message);
        return true;
      });
    }
  });

  it('refuses a non-canonical last character', () => {
    const good = encodeKey(new Uint8Array(32));
    assert.equal(good.at(-1), 'A');
    assert.throws(() => decodeKey(`${good.slice(0, -1)}B`), { code: ErrorCode.BAD_KEY });
  });

  it('refuses to encode anything but 32 bytes', () => {
    assert.throws(() => encodeKey(new Uint8Array(31)), { code: ErrorCode.BAD_KEY });
  });
});

describe('key generation', () => {
  it('generates clamped private keys', () => {
    for (let i = 0; i < 8; i++) {
      const k = generatePrivateKey();
      assert.equal(k[0]! & 7, 0);
      assert.equal(k[31]! & 0xc0, 0x40);
    }
  });

  for (const backend of backends) {
    it(`${backend.name} (${backend.provider}): derives the public key of a generated pair (RFC 7748 section 6.1 key too)`, () => {
      const pair = generateKeyPair(backend);
      assert.deepEqual(derivePublicKey(pair.privateKey, backend), pair.publicKey);
      const alice = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
      assert.deepEqual(derivePublicKey(alice, backend), hex('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a'));
    });
  }
});

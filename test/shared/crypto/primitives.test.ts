import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { blake2s } from '@noble/hashes/blake2.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { ErrorCode } from '../../../shared/errors.ts';
import { hkdfFromHmac } from '../../../shared/crypto/hkdf.ts';
import { noiseHkdf } from '../../../shared/crypto/symmetric-state.ts';
import { backends, hex, seededBytes, toHex } from './helpers.ts';

// RFC 8439 section 2.8.2.
const RFC8439 = {
  key: hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f'),
  nonce: hex('070000004041424344454647'),
  ad: hex('50515253c0c1c2c3c4c5c6c7'),
  plaintext: new TextEncoder().encode(
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
  ),
  ciphertext:
    'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b' +
    '1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc' +
    '3ff4def08e4b7a9de576d26586cec64b6116',
  tag: '1ae10b594f09e26a7e902ecbd0600691',
};

// RFC 7748 section 6.1.
const RFC7748 = {
  alicePrivate: hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'),
  alicePublic: '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a',
  bobPrivate: hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb'),
  bobPublic: 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f',
  shared: '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742',
};

for (const backend of backends) {
  describe(`${backend.name} (${backend.provider}) backend primitives`, () => {
    it('seals the RFC 8439 section 2.8.2 vector', () => {
      const { key, nonce, ad, plaintext } = RFC8439;
      assert.equal(toHex(backend.aead.seal(key, nonce, ad, plaintext)), RFC8439.ciphertext + RFC8439.tag);
    });

    it('opens the RFC 8439 section 2.8.2 vector and refuses a flipped bit', () => {
      const { key, nonce, ad, plaintext } = RFC8439;
      const sealed = hex(RFC8439.ciphertext + RFC8439.tag);
      assert.deepEqual(backend.aead.open(key, nonce, ad, sealed), plaintext);
      for (const at of [0, sealed.length - 1]) {
        const bad = sealed.slice();
        bad[at]! ^= 1;
        assert.equal(backend.aead.open(key, nonce, ad, bad), null);
      }
      assert.equal(backend.aead.open(key, nonce, hex('50'), sealed), null);
      assert.equal(backend.aead.open(key, nonce, ad, sealed.subarray(0, 15)), null);
    });

    it('sealInto writes ciphertext||tag at an offset and touches nothing else', () => {
      const { key, nonce, ad, plaintext } = RFC8439;
      const out = new Uint8Array(plaintext.length + 16 + 10).fill(0xaa);
      assert.equal(backend.aead.sealInto(key, nonce, ad, plaintext, out, 7), plaintext.length + 16);
      assert.equal(toHex(out.subarray(7, 7 + plaintext.length + 16)), RFC8439.ciphertext + RFC8439.tag);
      assert.deepEqual([...out.subarray(0, 7), ...out.subarray(7 + plaintext.length + 16)], new Array(10).fill(0xaa));
    });

    it('matches @noble/ciphers for every length up to ten blocks and any AD length', () => {
      const rand = seededBytes(8439);
      for (let length = 0; length <= 640; length++) {
        const key = rand(32);
        const nonce = rand(12);
        // AD lengths 0-100: both sides of libsodium's 64-byte staging limit.
        const ad = length % 9 === 0 ? null : rand((length * 7) % 101);
        const plaintext = rand(length);
        const expected = chacha20poly1305(key, nonce, ad ?? undefined).encrypt(plaintext);
        assert.equal(toHex(backend.aead.seal(key, nonce, ad, plaintext)), toHex(expected), `length ${length}`);
        assert.deepEqual(backend.aead.open(key, nonce, ad, expected), plaintext);
      }
    });

    it('refuses every single-bit change to ciphertext, tag or AD', () => {
      const rand = seededBytes(99);
      const key = rand(32);
      const nonce = rand(12);
      const ad = rand(20);
      const sealed = backend.aead.seal(key, nonce, ad, rand(40));
      for (let i = 0; i < sealed.length; i++) {
        const bad = sealed.slice();
        bad[i]! ^= 1 << (i % 8);
        assert.equal(backend.aead.open(key, nonce, ad, bad), null, `byte ${i}`);
      }
      const badAd = ad.slice();
      badAd[3]! ^= 0x80;
      assert.equal(backend.aead.open(key, nonce, badAd, sealed), null);
      assert.equal(backend.aead.open(key, nonce, null, sealed), null);
    });

    it('sealInto encrypts in place, and from a plaintext that overlaps the output at another offset', () => {
      const rand = seededBytes(5);
      const key = rand(32);
      const nonce = rand(12);
      // 20 and 64 bytes take libsodium's staged path, 100 and 5000 its direct one.
      for (const length of [20, 64, 100, 5000]) {
        const plaintext = rand(length);
        const expected = backend.aead.seal(key, nonce, null, plaintext);
        const room = new Uint8Array(length + 16);
        room.set(plaintext);
        backend.aead.sealInto(key, nonce, null, room.subarray(0, length), room, 0);
        assert.deepEqual(room, expected, `in place, ${length} bytes`);
        for (const shift of [-3, 3]) {
          // The plaintext sits `shift` bytes away from where the ciphertext goes.
          const buffer = new Uint8Array(length + 16 + 6);
          const from = 3 + shift;
          buffer.set(plaintext, from);
          backend.aead.sealInto(key, nonce, null, buffer.subarray(from, from + length), buffer, 3);
          assert.deepEqual(buffer.subarray(3, 3 + length + 16), expected, `shifted by ${shift}, ${length} bytes`);
        }
      }
    });

    it('refuses a key or nonce of the wrong length with BAD_KEY, and an output without room with BUFFER_LIMIT', () => {
      const { key, nonce, plaintext } = RFC8439;
      const sealed = backend.aead.seal(key, nonce, null, plaintext);
      for (const [k, n] of [[key.subarray(1), nonce], [key, nonce.subarray(1)], [key, new Uint8Array(24)]] as const) {
        assert.throws(() => backend.aead.seal(k, n, null, plaintext), { code: ErrorCode.BAD_KEY });
        assert.throws(() => backend.aead.open(k, n, null, sealed), { code: ErrorCode.BAD_KEY });
      }
      const out = new Uint8Array(plaintext.length + 16 + 4).fill(0xaa);
      for (const offset of [5, -1, 0.5, Number.NaN]) {
        assert.throws(() => backend.aead.sealInto(key, nonce, null, plaintext, out, offset), { code: ErrorCode.BUFFER_LIMIT }, `offset ${offset}`);
      }
      assert.deepEqual(out, new Uint8Array(out.length).fill(0xaa), 'nothing written');
    });

    it('computes the RFC 7748 section 6.1 X25519 keys and shared secret', () => {
      const alice = backend.x25519.keyPairFromPrivate(RFC7748.alicePrivate);
      const bob = backend.x25519.keyPairFromPrivate(RFC7748.bobPrivate);
      assert.equal(toHex(alice.publicKey), RFC7748.alicePublic);
      assert.equal(toHex(bob.publicKey), RFC7748.bobPublic);
      assert.equal(toHex(backend.x25519.dh(alice, backend.x25519.publicKey(bob.publicKey))), RFC7748.shared);
      assert.equal(toHex(backend.x25519.dh(bob, backend.x25519.publicKey(alice.publicKey))), RFC7748.shared);
    });

    it('computes the RFC 7748 section 5.2 scalar multiplications (the high bit of u is ignored)', () => {
      const cases = [
        ['a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4', 'e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c', 'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552'],
        ['4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d', 'e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493', '95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957'],
      ];
      for (const [scalar, u, out] of cases) {
        const pair = backend.x25519.keyPairFromPrivate(hex(scalar!));
        assert.equal(toHex(backend.x25519.dh(pair, backend.x25519.publicKey(hex(u!)))), out);
      }
    });

    it('agrees on a shared secret between generated key pairs, and never generates the same pair twice', () => {
      const a = backend.x25519.generateKeyPair();
      const b = backend.x25519.generateKeyPair();
      assert.notDeepEqual(a.publicKey, b.publicKey);
      assert.deepEqual(backend.x25519.dh(a, backend.x25519.publicKey(b.publicKey)), backend.x25519.dh(b, backend.x25519.publicKey(a.publicKey)));
    });

    it('refuses a low-order public key with HANDSHAKE', () => {
      const a = backend.x25519.generateKeyPair();
      const lowOrder = [
        '0000000000000000000000000000000000000000000000000000000000000000',
        '0100000000000000000000000000000000000000000000000000000000000000',
        'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
        '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
        'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
        'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
        'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
      ].map(hex);
      for (const point of lowOrder) {
        assert.throws(() => backend.x25519.dh(a, backend.x25519.publicKey(point)), { code: ErrorCode.HANDSHAKE });
      }
    });

    it('refuses keys of the wrong length and a destroyed key pair', () => {
      assert.throws(() => backend.x25519.publicKey(new Uint8Array(31)), { code: ErrorCode.BAD_KEY });
      assert.throws(() => backend.x25519.keyPairFromPrivate(new Uint8Array(33)), { code: ErrorCode.BAD_KEY });
      const a = backend.x25519.generateKeyPair();
      const peer = backend.x25519.publicKey(backend.x25519.generateKeyPair().publicKey);
      a.destroy();
      assert.throws(() => backend.x25519.dh(a, peer), { code: ErrorCode.CLOSED });
    });

    it('hashes the "abc" vectors of FIPS 180-2 and RFC 7693', () => {
      const abc = new TextEncoder().encode('abc');
      assert.equal(toHex(backend.hash('SHA256').hash(abc)), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
      assert.equal(toHex(backend.hash('BLAKE2s').hash(abc)), '508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982');
      assert.equal(toHex(backend.hash('SHA256').hash(abc.subarray(0, 1), abc.subarray(1))), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    });

    it('computes the RFC 4231 test case 2 HMAC-SHA256', () => {
      const mac = backend.hash('SHA256').hmac(new TextEncoder().encode('Jefe'), new TextEncoder().encode('what do ya want '), new TextEncoder().encode('for nothing?'));
      assert.equal(toHex(mac), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
    });

    it('hashes an HMAC key longer than the block first (RFC 4231 test case 6)', () => {
      const key = new Uint8Array(131).fill(0xaa);
      const mac = backend.hash('SHA256').hmac(key, new TextEncoder().encode('Test Using Larger Than Block-Size Key - Hash Key First'));
      assert.equal(toHex(mac), '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54');
    });

    it("gives Noise's HKDF the bytes of the HMAC construction for every input length", () => {
      const rand = seededBytes(11);
      for (const name of ['SHA256', 'BLAKE2s'] as const) {
        const hash = backend.hash(name);
        for (const length of [0, 1, 32, 64, 65, 200]) {
          const ck = rand(32);
          const ikm = rand(length);
          for (const outputs of [2, 3] as const) {
            const got = noiseHkdf(hash, ck, ikm, outputs);
            const want = hkdfFromHmac(hash.hmac, ck, ikm, outputs);
            assert.deepEqual(got, want, `${name} ikm ${length} outputs ${outputs}`);
          }
          // Back to back calls share scratch space: a second call must not see the first's bytes.
          assert.deepEqual(noiseHkdf(hash, ck, ikm, 2), hkdfFromHmac(hash.hmac, ck, ikm, 2));
        }
      }
    });

    it("computes Noise's HKDF as RFC 5869 HKDF with the chaining key as salt", () => {
      const rand = seededBytes(7);
      for (const [name, fn] of [['SHA256', sha256], ['BLAKE2s', blake2s]] as const) {
        const ck = rand(32);
        const ikm = rand(32);
        const expected = hkdf(fn, ikm, ck, new Uint8Array(0), 96);
        const [a, b, c] = noiseHkdf(backend.hash(name), ck, ikm, 3);
        assert.equal(toHex(a!) + toHex(b!) + toHex(c!), toHex(expected));
      }
    });
  });
}

describe('every backend against noble', () => {
  const noble = backends[backends.length - 1]!;
  const others = backends.slice(0, -1);

  it('runs the native backend in both its forms here, libsodium and node:crypto alone', () => {
    assert.deepEqual(backends.map((b) => `${b.name} (${b.provider})`), ['native (libsodium + node:crypto)', 'native (node:crypto)', 'noble (@noble)']);
  });

  for (const a of others) {
    it(`${a.name} (${a.provider}) produces the bytes of noble on seeded random inputs`, () => {
      const rand = seededBytes(2024);
      for (const size of [0, 1, 15, 16, 17, 63, 64, 65, 1400, 16384]) {
        const key = rand(32);
        const nonce = rand(12);
        const ad = rand(size % 37);
        const plaintext = rand(size);
        const sealed = a.aead.seal(key, nonce, ad, plaintext);
        assert.deepEqual(noble.aead.seal(key, nonce, ad, plaintext), sealed, `seal size ${size}`);
        assert.deepEqual(noble.aead.open(key, nonce, ad, sealed), plaintext);
        assert.deepEqual(a.aead.open(key, nonce, ad, sealed), plaintext);
        for (const name of ['SHA256', 'BLAKE2s'] as const) {
          assert.deepEqual(a.hash(name).hash(plaintext, ad), noble.hash(name).hash(plaintext, ad), `${name} size ${size}`);
          assert.deepEqual(a.hash(name).hmac(key, plaintext, ad), noble.hash(name).hmac(key, plaintext, ad), `HMAC-${name} size ${size}`);
        }
      }
      for (let i = 0; i < 8; i++) {
        const priv = rand(32);
        const pub = a.x25519.keyPairFromPrivate(rand(32)).publicKey;
        const pa = a.x25519.keyPairFromPrivate(priv);
        const pb = noble.x25519.keyPairFromPrivate(priv);
        assert.deepEqual(pa.publicKey, pb.publicKey);
        assert.deepEqual(a.x25519.dh(pa, a.x25519.publicKey(pub)), noble.x25519.dh(pb, noble.x25519.publicKey(pub)));
      }
    });
  }

  it("refuse each other's key handles", () => {
    for (const a of backends) {
      for (const b of backends) {
        if (a === b) continue;
        const pair = a.x25519.generateKeyPair();
        assert.throws(() => b.x25519.dh(pair as never, b.x25519.publicKey(pair.publicKey)), { code: ErrorCode.BAD_KEY }, `${a.provider} -> ${b.provider}`);
      }
    }
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../../../shared/errors.ts';
import { CipherState, MAX_PLAINTEXT } from '../../../shared/crypto/cipher-state.ts';
import { backends, hex, seededBytes, toHex } from './helpers.ts';

const KEY = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');

for (const backend of backends) {
  const pair = (rekeyInterval = 0) => [
    new CipherState(backend.aead, KEY.slice(), { rekeyInterval }),
    new CipherState(backend.aead, KEY.slice(), { rekeyInterval }),
  ] as const;

  describe(`${backend.name} (${backend.provider}) CipherState`, () => {
    it('puts the counter little-endian after 32 zero bits in the ChaCha nonce', () => {
      const [cs] = pair();
      cs.setNonce(0x0102030405060708n);
      const nonce = hex('000000000807060504030201');
      assert.deepEqual(cs.encrypt(hex('abcd')), backend.aead.seal(KEY, nonce, null, hex('abcd')));
      assert.equal(cs.nonce, 0x0102030405060709n);
    });

    it('carries the counter across the 32-bit boundary', () => {
      const [a, b] = pair();
      a.setNonce(0xffffffffn);
      b.setNonce(0xffffffffn);
      for (let i = 0; i < 3; i++) assert.deepEqual(b.decrypt(a.encrypt(hex('01'))), hex('01'));
      assert.equal(a.nonce, 0x100000002n);
      assert.deepEqual(a.encrypt(hex('02')), backend.aead.seal(KEY, hex('000000000200000001000000'), null, hex('02')));
    });

    it('round-trips messages and never repeats a ciphertext for the same plaintext', () => {
      const [a, b] = pair();
      const seen = new Set<string>();
      for (let i = 0; i < 20; i++) {
        const wire = a.encrypt(hex('00'));
        seen.add(toHex(wire));
        assert.deepEqual(b.decrypt(wire), hex('00'));
      }
      assert.equal(seen.size, 20);
    });

    it('uses nonce 2^64 - 2 and then refuses to encrypt or decrypt with NONCE_EXHAUSTED', () => {
      const [a, b] = pair();
      a.setNonce(0xfffffffffffffffen);
      b.setNonce(0xfffffffffffffffen);
      assert.deepEqual(b.decrypt(a.encrypt(hex('aa'))), hex('aa'));
      assert.throws(() => a.encrypt(hex('aa')), { code: ErrorCode.NONCE_EXHAUSTED });
      assert.throws(() => a.encryptInto(new Uint8Array(64), 0, hex('aa')), { code: ErrorCode.NONCE_EXHAUSTED });
      assert.throws(() => b.decrypt(new Uint8Array(17)), { code: ErrorCode.NONCE_EXHAUSTED });
      assert.equal(a.nonce, 0xffffffffffffffffn);
    });

    it('throws DECRYPT_FAILED on a tampered message and stays in step for the genuine one', () => {
      const [a, b] = pair();
      const first = a.encrypt(hex('0102'));
      const bad = first.slice();
      bad[0]! ^= 0x80;
      assert.throws(() => b.decrypt(bad), { code: ErrorCode.DECRYPT_FAILED });
      assert.throws(() => b.decrypt(first.subarray(0, 10)), { code: ErrorCode.DECRYPT_FAILED });
      assert.equal(b.nonce, 0n);
      assert.deepEqual(b.decrypt(first), hex('0102'));
      assert.deepEqual(b.decrypt(a.encrypt(hex('03'))), hex('03'));
    });

    it('refuses a replayed or reordered message', () => {
      const [a, b] = pair();
      const m0 = a.encrypt(hex('00'));
      const m1 = a.encrypt(hex('01'));
      assert.throws(() => b.decrypt(m1), { code: ErrorCode.DECRYPT_FAILED });
      b.decrypt(m0);
      assert.throws(() => b.decrypt(m0), { code: ErrorCode.DECRYPT_FAILED });
    });

    it('rekeys as Noise REKEY defines it: the first 32 bytes of ENCRYPT(k, 2^64 - 1, "", zeros)', () => {
      const [cs] = pair();
      cs.rekey();
      const next = backend.aead.seal(KEY, hex('00000000ffffffffffffffff'), null, new Uint8Array(32)).subarray(0, 32);
      assert.deepEqual(cs.encrypt(hex('55')), backend.aead.seal(next, new Uint8Array(12), null, hex('55')));
    });

    it('rekeys both sides in lockstep every N messages without resetting the counter', () => {
      const [a, b] = pair(3);
      const [plainA] = pair();
      const rand = seededBytes(3);
      for (let i = 0; i < 10; i++) {
        const msg = rand(i * 7);
        const wire = a.encrypt(msg);
        assert.deepEqual(b.decrypt(wire), msg);
        if (i < 3) assert.deepEqual(wire, plainA.encrypt(msg));
        else assert.notDeepEqual(wire.subarray(0, msg.length + 16), plainA.encrypt(msg));
      }
      assert.equal(a.nonce, 10n);
      assert.equal(b.nonce, 10n);
    });

    it('does not count a failed decrypt towards the rekey interval', () => {
      const [a, b] = pair(2);
      const m0 = a.encrypt(hex('00'));
      assert.throws(() => b.decrypt(new Uint8Array(20)), { code: ErrorCode.DECRYPT_FAILED });
      b.decrypt(m0);
      for (let i = 0; i < 5; i++) assert.deepEqual(b.decrypt(a.encrypt(hex('07'))), hex('07'));
    });

    it('encryptInto writes at an offset the same bytes encrypt returns', () => {
      const [a, b] = pair();
      const msg = seededBytes(9)(1400);
      const out = new Uint8Array(4 + msg.length + 16).fill(0xee);
      assert.equal(a.encryptInto(out, 4, msg), msg.length + 16);
      assert.deepEqual(out.subarray(0, 4), hex('eeeeeeee'));
      assert.deepEqual(b.decrypt(out.subarray(4)), msg);
      assert.throws(() => a.encryptInto(new Uint8Array(msg.length + 15), 0, msg), { code: ErrorCode.BUFFER_LIMIT });
      assert.throws(() => a.encryptInto(out, -1, msg), { code: ErrorCode.BUFFER_LIMIT });
      assert.equal(a.nonce, 1n);
    });

    it('encryptInPlace turns a frame buffer with tail room into the message encrypt would give', () => {
      const [a, b] = pair();
      const [reference] = pair();
      const msg = seededBytes(10)(300);
      const buffer = new Uint8Array(msg.length + 16 + 5);
      buffer.set(msg);
      const wire = a.encryptInPlace(buffer, msg.length);
      assert.equal(wire.buffer, buffer.buffer);
      assert.deepEqual(wire, reference.encrypt(msg));
      assert.deepEqual(b.decrypt(wire), msg);
      assert.throws(() => a.encryptInPlace(new Uint8Array(20), 5), { code: ErrorCode.BUFFER_LIMIT });
      assert.throws(() => a.encryptInPlace(new Uint8Array(20), 21), { code: ErrorCode.BUFFER_LIMIT });
    });

    it('decryptInPlace returns the plaintext as a view of the message buffer, and on a bad tag throws without advancing', () => {
      const [a, b] = pair();
      for (const size of [0, 1, 48, 64, 65, 1400, MAX_PLAINTEXT]) {
        const msg = seededBytes(size + 3)(size);
        const wire = a.encrypt(msg);
        const plaintext = b.decryptInPlace(wire);
        assert.deepEqual(plaintext, msg, `size ${size}`);
        assert.equal(plaintext.buffer, wire.buffer, `size ${size}: a view of the message`);
        assert.equal(plaintext.byteOffset, wire.byteOffset);
      }
      // Inside a larger buffer (a socket read holding several messages): only its own bytes change.
      const msg = seededBytes(5)(300);
      const wire = a.encrypt(msg);
      const chunk = new Uint8Array(wire.length + 20).fill(0xee);
      chunk.set(wire, 10);
      assert.deepEqual(b.decryptInPlace(chunk.subarray(10, 10 + wire.length)), msg);
      assert.deepEqual([...chunk.subarray(0, 10), ...chunk.subarray(10 + wire.length)], new Array(20).fill(0xee));
      const genuine = a.encrypt(msg);
      const bad = genuine.slice();
      bad[7]! ^= 1;
      const nonce = b.nonce;
      assert.throws(() => b.decryptInPlace(bad), { code: ErrorCode.DECRYPT_FAILED });
      assert.equal(b.nonce, nonce, 'a failed message does not move the counter');
      assert.deepEqual(b.decryptInPlace(genuine), msg);
    });

    it('refuses a plaintext larger than a Noise message allows', () => {
      const [a] = pair();
      assert.equal(a.encrypt(new Uint8Array(MAX_PLAINTEXT)).length, 65535);
      assert.throws(() => a.encrypt(new Uint8Array(MAX_PLAINTEXT + 1)), { code: ErrorCode.FRAME_TOO_LARGE });
      assert.throws(() => a.decrypt(new Uint8Array(65536)), { code: ErrorCode.FRAME_TOO_LARGE });
    });

    it('passes data through before a key is set and refuses transport use', () => {
      const cs = new CipherState(backend.aead);
      assert.equal(cs.hasKey(), false);
      assert.deepEqual(cs.encryptWithAd(hex('01'), hex('0203')), hex('0203'));
      assert.throws(() => cs.encrypt(hex('02')), { code: ErrorCode.CLOSED });
    });

    it('wipes its key on destroy and refuses every later call', () => {
      const key = KEY.slice();
      const cs = new CipherState(backend.aead, key, { rekeyInterval: 0 });
      cs.destroy();
      assert.deepEqual(key, new Uint8Array(32));
      assert.throws(() => cs.encrypt(hex('01')), { code: ErrorCode.CLOSED });
      assert.throws(() => cs.decrypt(new Uint8Array(17)), { code: ErrorCode.CLOSED });
      assert.throws(() => cs.encryptWithAd(hex(''), hex('01')), { code: ErrorCode.CLOSED });
    });

    it('refuses keys of the wrong length and a bad rekey interval', () => {
      assert.throws(() => new CipherState(backend.aead, new Uint8Array(16)), { code: ErrorCode.BAD_KEY });
      assert.throws(() => new CipherState(backend.aead, null, { rekeyInterval: -1 }), { code: ErrorCode.BAD_CONFIG });
    });
  });
}

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { shortOpen, shortSealInto } from '../../../shared/crypto/short-aead.ts';
import { hex, seededBytes, toHex } from './helpers.ts';

function seal(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array | null, plaintext: Uint8Array): Uint8Array {
  const out = new Uint8Array(plaintext.length + 16);
  assert.equal(shortSealInto(key, nonce, ad, plaintext, out, 0), out.length);
  return out;
}

describe('short-message ChaCha20-Poly1305', () => {
  it('reproduces the RFC 8439 section 2.8.2 vector', () => {
    const key = hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
    const nonce = hex('070000004041424344454647');
    const ad = hex('50515253c0c1c2c3c4c5c6c7');
    const plaintext = new TextEncoder().encode(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
    );
    const sealed = seal(key, nonce, ad, plaintext);
    assert.equal(toHex(sealed.subarray(plaintext.length)), '1ae10b594f09e26a7e902ecbd0600691');
    assert.deepEqual(shortOpen(key, nonce, ad, sealed), plaintext);
  });

  it('matches @noble/ciphers for every length up to ten blocks (past the native backend\'s 512-byte limit) and any AD length', () => {
    const rand = seededBytes(8439);
    for (let length = 0; length <= 640; length++) {
      const key = rand(32);
      const nonce = rand(12);
      const ad = length % 9 === 0 ? null : rand((length * 7) % 41);
      const plaintext = rand(length);
      const expected = chacha20poly1305(key, nonce, ad ?? undefined).encrypt(plaintext);
      assert.equal(toHex(seal(key, nonce, ad, plaintext)), toHex(expected), `length ${length}`);
      assert.deepEqual(shortOpen(key, nonce, ad, expected), plaintext);
    }
  });

  it('carries Poly1305 correctly when every input byte is 0xff', () => {
    const key = new Uint8Array(32).fill(0xff);
    const nonce = new Uint8Array(12).fill(0xff);
    for (const length of [0, 15, 16, 17, 64, 255, 511, 512, 513]) {
      const plaintext = new Uint8Array(length).fill(0xff);
      const ad = new Uint8Array(length % 33).fill(0xff);
      const expected = chacha20poly1305(key, nonce, ad).encrypt(plaintext);
      assert.equal(toHex(seal(key, nonce, ad, plaintext)), toHex(expected), `length ${length}`);
    }
  });

  it('refuses every single-bit change to ciphertext, tag or AD, and a short input', () => {
    const rand = seededBytes(99);
    const key = rand(32);
    const nonce = rand(12);
    const ad = rand(20);
    const sealed = seal(key, nonce, ad, rand(40));
    for (let i = 0; i < sealed.length; i++) {
      const bad = sealed.slice();
      bad[i]! ^= 1 << (i % 8);
      assert.equal(shortOpen(key, nonce, ad, bad), null, `byte ${i}`);
    }
    const badAd = ad.slice();
    badAd[3]! ^= 0x80;
    assert.equal(shortOpen(key, nonce, badAd, sealed), null);
    assert.equal(shortOpen(key, nonce, null, sealed), null);
    assert.equal(shortOpen(key, nonce, ad, sealed.subarray(0, 15)), null);
  });

  it('encrypts in place when the output is the plaintext buffer', () => {
    const rand = seededBytes(5);
    const key = rand(32);
    const nonce = rand(12);
    const plaintext = rand(100);
    const room = new Uint8Array(116);
    room.set(plaintext);
    shortSealInto(key, nonce, null, room.subarray(0, 100), room, 0);
    assert.deepEqual(room, seal(key, nonce, null, plaintext));
  });
});

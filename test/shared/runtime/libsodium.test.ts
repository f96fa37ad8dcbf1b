import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../../../shared/errors.ts';
import { createSodiumAead, libsodium, type Sodium } from '../../../shared/runtime/libsodium.ts';

/**
 * A Sodium that records the arrays libsodium is handed (the staging buffers for small
 * arguments) and can be told to fail, so a test can look at them after each call.
 */
function spySodium(real: Sodium): { sodium: Sodium; handed: Uint8Array[]; failNext(): void } {
  const handed: Uint8Array[] = [];
  let fail = false;
  const sodium: Sodium = {
    ...real,
    crypto_aead_chacha20poly1305_ietf_encrypt_detached(c, mac, m, ad, nsec, npub, k) {
      handed.push(c, m, k, ...(ad === null ? [] : [ad]));
      if (fail) {
        fail = false;
        throw new Error('simulated libsodium failure');
      }
      return real.crypto_aead_chacha20poly1305_ietf_encrypt_detached(c, mac, m, ad, nsec, npub, k);
    },
    crypto_aead_chacha20poly1305_ietf_decrypt_detached(m, nsec, c, mac, ad, npub, k) {
      handed.push(m, c, k, ...(ad === null ? [] : [ad]));
      real.crypto_aead_chacha20poly1305_ietf_decrypt_detached(m, nsec, c, mac, ad, npub, k);
    },
  };
  return { sodium, handed, failNext: () => (fail = true) };
}

const zeroed = (a: Uint8Array): boolean => a.every((b) => b === 0);

describe('libsodium', () => {
  it('loads on this runtime and passes its known-answer checks (CI runs where the prebuilt addon exists)', () => {
    assert.ok(libsodium !== null);
  });

  it('leaves no key, plaintext or AD bytes in its staging buffers after a seal, an open, a failed open or a failed seal', () => {
    const spy = spySodium(libsodium!);
    const aead = createSodiumAead(spy.sodium);
    const key = new Uint8Array(32).fill(0x42);
    const nonce = new Uint8Array(12).fill(7);
    const ad = new Uint8Array(40).fill(0x33);
    const plaintext = new Uint8Array(48).fill(0x5a);
    const sealed = aead.seal(key, nonce, ad, plaintext);
    assert.deepEqual(aead.open(key, nonce, ad, sealed), plaintext);
    const bad = sealed.slice();
    bad[0]! ^= 1;
    assert.equal(aead.open(key, nonce, ad, bad), null);
    spy.failNext();
    assert.throws(() => aead.seal(key, nonce, ad, plaintext), /simulated libsodium failure/);
    // Every small argument went through staging (none of them is the caller's array) ...
    for (const a of spy.handed) assert.ok(a !== key && a !== plaintext && a !== ad && a !== sealed);
    // ... and every staging buffer is zero again, ciphertext views included.
    assert.equal(spy.handed.length, 16);
    for (const [i, a] of spy.handed.entries()) assert.ok(zeroed(a), `array ${i} handed to libsodium still holds bytes`);
  });

  it('refuses a bad key, nonce or output before staging anything', () => {
    const spy = spySodium(libsodium!);
    const aead = createSodiumAead(spy.sodium);
    const plaintext = new Uint8Array(10);
    assert.throws(() => aead.seal(new Uint8Array(31), new Uint8Array(12), null, plaintext), { code: ErrorCode.BAD_KEY });
    assert.throws(() => aead.sealInto(new Uint8Array(32), new Uint8Array(12), null, plaintext, new Uint8Array(25), 0), { code: ErrorCode.BUFFER_LIMIT });
    assert.equal(spy.handed.length, 0);
  });
});

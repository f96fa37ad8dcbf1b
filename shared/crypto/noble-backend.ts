/**
 * The pure backend: @noble/ciphers, @noble/curves and @noble/hashes (audited, dependency-free
 * JavaScript). Used where node:crypto is missing or when chosen explicitly (APFSDS_CRYPTO=noble);
 * it must produce the same bytes as the native backend.
 */
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { x25519 as nobleX25519 } from '@noble/curves/ed25519.js';
import { blake2s } from '@noble/hashes/blake2.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { checkAeadInputs, checkRoom } from './bytes.ts';
import { bytesX25519 } from './bytes-x25519.ts';
import { hkdfFromHmac } from './hkdf.ts';
import {
  CRYPTO_PROVIDERS,
  TAG_LENGTH,
  type Aead,
  type CryptoBackend,
  type NoiseHash,
  type NoiseHashName,
} from './types.ts';

const aead: Aead = {
  sealInto(key, nonce, ad, plaintext, out, offset) {
    const n = plaintext.length + TAG_LENGTH;
    checkAeadInputs(key, nonce);
    checkRoom(out, offset, n);
    chacha20poly1305(key, nonce, ad ?? undefined).encrypt(plaintext, out.subarray(offset, offset + n));
    return n;
  },
  seal(key, nonce, ad, plaintext) {
    checkAeadInputs(key, nonce);
    return chacha20poly1305(key, nonce, ad ?? undefined).encrypt(plaintext);
  },
  open(key, nonce, ad, ciphertext) {
    checkAeadInputs(key, nonce);
    if (ciphertext.length < TAG_LENGTH) return null;
    try {
      return chacha20poly1305(key, nonce, ad ?? undefined).decrypt(ciphertext);
    } catch {
      return null;
    }
  },
};

const x25519 = bytesX25519({
  backend: 'noble',
  provider: CRYPTO_PROVIDERS.noble,
  label: 'noble',
  randomPrivate: () => nobleX25519.utils.randomSecretKey(),
  copyPrivate: (privateKey) => privateKey.slice(),
  publicFrom: (privateKey) => nobleX25519.getPublicKey(privateKey),
  shared: (privateKey, publicKey) => nobleX25519.getSharedSecret(privateKey, publicKey),
});

function nobleHash(name: NoiseHashName): NoiseHash {
  const fn = name === 'BLAKE2s' ? blake2s : sha256;
  const mac = (key: Uint8Array, a: Uint8Array, b?: Uint8Array): Uint8Array => {
    if (b === undefined) return hmac(fn, key, a);
    return hmac.create(fn, key).update(a).update(b).digest();
  };
  return {
    name,
    hashLen: 32,
    hash(a, b) {
      if (b === undefined) return fn(a);
      return fn.create().update(a).update(b).digest();
    },
    hmac: mac,
    hkdf: (ck, ikm, outputs) => hkdfFromHmac(mac, ck, ikm, outputs),
  };
}

const hashes = { BLAKE2s: nobleHash('BLAKE2s'), SHA256: nobleHash('SHA256') } as const;

/** The pure @noble backend. */
export const nobleBackend: CryptoBackend = {
  name: 'noble',
  provider: CRYPTO_PROVIDERS.noble,
  aead,
  x25519,
  hash: (name) => hashes[name],
};

/**
 * The native crypto backend: compiled code rather than JavaScript. ChaCha20-Poly1305 and X25519
 * come from libsodium (libsodium.ts) where its addon loads, else from node:crypto (OpenSSL on
 * Node, Rust on Deno's node compat); the Noise hashes always from node:crypto. This is the only
 * file that loads node:crypto. It loads it at run time, so a runtime without node:crypto (or
 * without ChaCha20-Poly1305 and X25519 in it) gets `nativeCryptoBackend === null` and the
 * selector falls back to the pure @noble backend.
 *
 * Speed notes for the node:crypto path, measured (bench/crypto.ts): a KeyObject import costs
 * about a quarter of a DH, so X25519 keys are held as KeyObjects (DhKeyPair/DhPublicKey handles)
 * and static ones are imported once; ephemerals come from generateKeyPairSync, whose job also
 * encodes their public half (exporting a generated key later can deadlock Node 20; see
 * generateKeyPair below).
 */
import type * as NodeCrypto from 'node:crypto';
import { ErrorCode, codedError } from '../errors.ts';
import { encodeBase64url, tryDecodeBase64url } from '../crypto/base64url.ts';
import { checkAeadInputs, checkKeyLength, checkRoom } from '../crypto/bytes.ts';
import { destroyedPairError, foreignHandleError, lowOrderError } from '../crypto/bytes-x25519.ts';
import { hkdfFromHmac } from '../crypto/hkdf.ts';
import { oneShotNoiseHash } from '../crypto/oneshot-hash.ts';
import {
  CRYPTO_PROVIDERS,
  KEY_LENGTH,
  TAG_LENGTH,
  type Aead,
  type CryptoBackend,
  type DhKeyPair,
  type DhPublicKey,
  type NoiseHash,
  type NoiseHashName,
  type X25519,
} from '../crypto/types.ts';
import { builtin } from './builtin.ts';
import { createSodiumAead, createSodiumX25519, libsodium, type Sodium } from './libsodium.ts';

type NodeCryptoModule = typeof NodeCrypto;
type KeyObject = NodeCrypto.KeyObject;
type LatinHash = (algorithm: string, data: Uint8Array, outputEncoding: 'latin1') => string;
type JwkKeyPair = { privateKey: KeyObject; publicKey: NodeCrypto.JsonWebKey };

const ALGORITHM = 'chacha20-poly1305';
const TAG_OPTIONS = { authTagLength: TAG_LENGTH } as const;

function loadNodeCrypto(): NodeCryptoModule | null {
  try {
    const mod = builtin<NodeCryptoModule>('node:crypto');
    if (mod === undefined || !mod.getCiphers().includes(ALGORITHM)) return null;
    mod.generateKeyPairSync('x25519');
    return mod;
  } catch {
    return null;
  }
}

/** A plain Uint8Array view of a Buffer (no copy), so callers never meet Buffer semantics. */
function plain(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function fromBase64url(text: string | undefined): Uint8Array {
  const bytes = tryDecodeBase64url(text ?? '');
  if (!(bytes instanceof Uint8Array) || bytes.length !== KEY_LENGTH) {
    throw codedError(Error, ErrorCode.BAD_KEY, 'node:crypto exported a malformed X25519 key: expected 32 bytes');
  }
  return bytes;
}

function createNodeAead(c: NodeCryptoModule): Aead {
  const sealInto: Aead['sealInto'] = (key, nonce, ad, plaintext, out, offset) => {
    const n = plaintext.length + TAG_LENGTH;
    checkAeadInputs(key, nonce);
    checkRoom(out, offset, n);
    const cipher = c.createCipheriv(ALGORITHM, key, nonce, TAG_OPTIONS);
    if (ad !== null && ad.length > 0) cipher.setAAD(ad, { plaintextLength: plaintext.length });
    out.set(cipher.update(plaintext), offset);
    cipher.final();
    out.set(cipher.getAuthTag(), offset + plaintext.length);
    return n;
  };
  const aead: Aead = {
    sealInto,
    seal(key, nonce, ad, plaintext) {
      // node:crypto cannot write into our buffer, so this costs one allocation and one copy
      // (an unzeroed or pooled allocation measured no faster; docs/crypto.md section 3).
      const out = new Uint8Array(plaintext.length + TAG_LENGTH);
      sealInto(key, nonce, ad, plaintext, out, 0);
      return out;
    },
    open(key, nonce, ad, ciphertext) {
      checkAeadInputs(key, nonce);
      if (ciphertext.length < TAG_LENGTH) return null;
      const body = ciphertext.length - TAG_LENGTH;
      const decipher = c.createDecipheriv(ALGORITHM, key, nonce, TAG_OPTIONS);
      decipher.setAuthTag(ciphertext.subarray(body));
      if (ad !== null && ad.length > 0) decipher.setAAD(ad, { plaintextLength: body });
      const plaintext = decipher.update(ciphertext.subarray(0, body));
      try {
        decipher.final();
      } catch {
        plaintext.fill(0);
        return null;
      }
      return plain(plaintext);
    },
  };
  return aead;
}

class NativeKeyPair implements DhKeyPair {
  readonly backend = 'native' as const;
  readonly publicKey: Uint8Array;
  key: KeyObject | null;
  constructor(key: KeyObject, publicKey: Uint8Array) {
    this.key = key;
    this.publicKey = publicKey;
  }
  destroy(): void {
    // A KeyObject cannot be zeroed from JS; dropping it lets OpenSSL free it, and OpenSSL
    // clears X25519 private keys on free (OPENSSL_secure_clear_free in ecx_key_free).
    this.key = null;
  }
}

class NativePublicKey implements DhPublicKey {
  readonly backend = 'native' as const;
  readonly provider = CRYPTO_PROVIDERS.nodeCrypto;
  readonly bytes: Uint8Array;
  readonly key: KeyObject;
  constructor(bytes: Uint8Array, key: KeyObject) {
    this.bytes = bytes;
    this.key = key;
  }
}

function createNodeX25519(c: NodeCryptoModule): X25519 {
  // JWK is the cheapest import path measured (DER/PKCS#8 parsing costs several times more).
  const rawPublic = (key: KeyObject): Uint8Array => fromBase64url(key.export({ format: 'jwk' }).x);
  return {
    generateKeyPair() {
      // The public key is encoded by the key-generation job itself. Exporting a freshly generated
      // KeyObject afterwards can deadlock Node 20 (seen on 20.20.2): export holds the key's mutex
      // while allocating, a GC inside runs the finished KeyGenJob's destructor, which takes the
      // same mutex. Nothing here exports a generated key.
      const options = { publicKeyEncoding: { format: 'jwk' } } as const;
      // @types/node has no overload for a JWK public key next to a KeyObject private key.
      const generate = c.generateKeyPairSync as unknown as (type: 'x25519', o: typeof options) => JwkKeyPair;
      const { privateKey, publicKey } = generate('x25519', options);
      return new NativeKeyPair(privateKey, fromBase64url(publicKey.x));
    },
    keyPairFromPrivate(privateKey) {
      checkKeyLength(privateKey, 'X25519 private key');
      const key = c.createPrivateKey({
        key: { kty: 'OKP', crv: 'X25519', d: encodeBase64url(privateKey), x: '' },
        format: 'jwk',
      });
      return new NativeKeyPair(key, rawPublic(c.createPublicKey(key)));
    },
    publicKey(bytes) {
      checkKeyLength(bytes, 'X25519 public key');
      const key = c.createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: encodeBase64url(bytes) }, format: 'jwk' });
      return new NativePublicKey(bytes.slice(), key);
    },
    dh(local, remote) {
      if (!(local instanceof NativeKeyPair) || !(remote instanceof NativePublicKey)) throw foreignHandleError('node:crypto');
      if (local.key === null) throw destroyedPairError();
      try {
        // A plain copy (callers never meet Buffer semantics), and node's Buffer wiped at once.
        const shared = c.diffieHellman({ privateKey: local.key, publicKey: remote.key });
        const out = new Uint8Array(shared.length);
        out.set(shared);
        shared.fill(0);
        return out;
      } catch (err) {
        // OpenSSL refuses an all-zero shared secret (RFC 7748 section 6.1): a low-order point.
        throw lowOrderError(err);
      }
    },
  };
}

function createHash(c: NodeCryptoModule, name: NoiseHashName): NoiseHash {
  const algorithm = name === 'BLAKE2s' ? 'blake2s256' : 'sha256';
  const oneShot = (c as unknown as { hash?: LatinHash }).hash;
  // crypto.hash: Node >= 20.12 and Deno 2; older runtimes keep the Hash and Hmac objects.
  if (oneShot !== undefined) return oneShotNoiseHash(name, (data) => oneShot(algorithm, data, 'latin1'));
  const hmac = (key: Uint8Array, a: Uint8Array, b?: Uint8Array): Uint8Array => {
    const h = c.createHmac(algorithm, key).update(a);
    if (b !== undefined) h.update(b);
    return plain(h.digest());
  };
  return {
    name,
    hashLen: 32,
    hash(a, b) {
      const h = c.createHash(algorithm).update(a);
      if (b !== undefined) h.update(b);
      return plain(h.digest());
    },
    hmac,
    hkdf: (ck, ikm, outputs) => hkdfFromHmac(hmac, ck, ikm, outputs),
  };
}

function createNativeBackend(c: NodeCryptoModule, sodium: Sodium | null): CryptoBackend {
  const hashes = { BLAKE2s: createHash(c, 'BLAKE2s'), SHA256: createHash(c, 'SHA256') } as const;
  return {
    name: 'native',
    provider: sodium === null ? CRYPTO_PROVIDERS.nodeCrypto : CRYPTO_PROVIDERS.libsodium,
    aead: sodium === null ? createNodeAead(c) : createSodiumAead(sodium),
    x25519: sodium === null ? createNodeX25519(c) : createSodiumX25519(sodium),
    hash: (name) => hashes[name],
  };
}

const nodeCrypto = loadNodeCrypto();

/** The native backend, or null when this runtime's node:crypto lacks ChaCha20-Poly1305 or X25519. */
export const nativeCryptoBackend: CryptoBackend | null = nodeCrypto === null ? null : createNativeBackend(nodeCrypto, libsodium);

let nodeCryptoOnly: CryptoBackend | undefined;

/**
 * Every native backend this runtime can build, the chosen one first: with libsodium (where it
 * loads) and on node:crypto alone, the fallback of a platform without the addon. The tests run
 * each of them against the published vectors.
 */
export function nativeCryptoVariants(): CryptoBackend[] {
  if (nodeCrypto === null || nativeCryptoBackend === null) return [];
  if (libsodium === null) return [nativeCryptoBackend];
  nodeCryptoOnly ??= createNativeBackend(nodeCrypto, null);
  return [nativeCryptoBackend, nodeCryptoOnly];
}

/**
 * Raw node:crypto ChaCha20-Poly1305 (createCipheriv, no wrapper), the baseline bench/crypto.ts
 * measures the wrappers against. Returns ciphertext and tag as node:crypto hands them back.
 */
export function rawNativeSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): [Uint8Array, Uint8Array] {
  if (nodeCrypto === null) throw codedError(Error, ErrorCode.BAD_CONFIG, 'node:crypto is unavailable: expected Node or Deno');
  const cipher = nodeCrypto.createCipheriv(ALGORITHM, key, nonce, TAG_OPTIONS);
  const ct = cipher.update(plaintext);
  cipher.final();
  return [ct, cipher.getAuthTag()];
}

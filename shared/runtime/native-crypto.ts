/**
 * The native crypto backend: node:crypto (OpenSSL on Node, Rust on Deno's node compat).
 * This is the only file that loads node:crypto. It loads it at run time, so a runtime without
 * node:crypto (or without ChaCha20-Poly1305 and X25519 in it) gets `nativeCryptoBackend === null`
 * and the selector falls back to the pure @noble backend.
 *
 * Speed notes, measured (bench/crypto.ts): a KeyObject import costs more than a DH, so X25519
 * keys are held as KeyObjects (DhKeyPair/DhPublicKey handles) and static ones are imported
 * once; ephemerals come from generateKeyPairSync, whose job also encodes their public half
 * (exporting a generated key later can deadlock Node 20; see generateKeyPair below).
 */
import type * as NodeCrypto from 'node:crypto';
import { ErrorCode, codedError } from '../errors.ts';
import { encodeBase64url, tryDecodeBase64url } from '../crypto/base64url.ts';
import { checkKeyLength } from '../crypto/bytes.ts';
import { hkdfFromHmac } from '../crypto/hkdf.ts';
import type { SplitAead } from '../crypto/cipher-state.ts';
import {
  KEY_LENGTH,
  TAG_LENGTH,
  type CryptoBackend,
  type DhKeyPair,
  type DhPublicKey,
  type NoiseHash,
  type NoiseHashName,
  type X25519,
} from '../crypto/types.ts';

type NodeCryptoModule = typeof NodeCrypto;
type KeyObject = NodeCrypto.KeyObject;
type LatinHash = (algorithm: string, data: Uint8Array, outputEncoding: 'latin1') => string;
type JwkKeyPair = { privateKey: KeyObject; publicKey: NodeCrypto.JsonWebKey };

const ALGORITHM = 'chacha20-poly1305';
const TAG_OPTIONS = { authTagLength: TAG_LENGTH } as const;

// process.getBuiltinModule (Node >= 20.16, Deno 2) loads built-ins synchronously where they
// exist and lets a runtime without them fall back, with no top-level await in the import graph.
function builtin<T>(id: string): T | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return proc?.getBuiltinModule?.(id) as T | undefined;
}

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

function createAead(c: NodeCryptoModule): SplitAead {
  function sealInto(
    key: Uint8Array,
    nonce: Uint8Array,
    ad: Uint8Array | null,
    plaintext: Uint8Array,
    out: Uint8Array,
    offset: number,
  ): number {
    const n = plaintext.length + TAG_LENGTH;
    if (offset < 0 || offset + n > out.length) {
      throw codedError(RangeError, ErrorCode.BUFFER_LIMIT, `The output has no room: expected ${n} bytes from offset ${offset}`);
    }
    const cipher = c.createCipheriv(ALGORITHM, key, nonce, TAG_OPTIONS);
    if (ad !== null && ad.length > 0) cipher.setAAD(ad, { plaintextLength: plaintext.length });
    out.set(cipher.update(plaintext), offset);
    cipher.final();
    out.set(cipher.getAuthTag(), offset + plaintext.length);
    return n;
  }
  const aead: SplitAead = {
    sealInto,
    sealParts(key, nonce, ad, plaintext) {
      // Ciphertext and tag as node:crypto returns them: no output array, no copy into it.
      const cipher = c.createCipheriv(ALGORITHM, key, nonce, TAG_OPTIONS);
      if (ad !== null && ad.length > 0) cipher.setAAD(ad, { plaintextLength: plaintext.length });
      const body = cipher.update(plaintext);
      cipher.final();
      return [plain(body), plain(cipher.getAuthTag())];
    },
    seal(key, nonce, ad, plaintext) {
      // node:crypto cannot write into our buffer, so this costs one allocation and one copy
      // (an unzeroed or pooled allocation measured no faster; docs/crypto.md section 3).
      const out = new Uint8Array(plaintext.length + TAG_LENGTH);
      sealInto(key, nonce, ad, plaintext, out, 0);
      return out;
    },
    open(key, nonce, ad, ciphertext) {
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
  readonly bytes: Uint8Array;
  readonly key: KeyObject;
  constructor(bytes: Uint8Array, key: KeyObject) {
    this.bytes = bytes;
    this.key = key;
  }
}

function createX25519(c: NodeCryptoModule): X25519 {
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
      if (!(local instanceof NativeKeyPair) || !(remote instanceof NativePublicKey)) {
        throw codedError(TypeError, ErrorCode.BAD_KEY, 'The key handles come from another backend: expected native handles');
      }
      if (local.key === null) {
        throw codedError(Error, ErrorCode.CLOSED, 'The X25519 key pair was destroyed: expected a live key');
      }
      try {
        return plain(c.diffieHellman({ privateKey: local.key, publicKey: remote.key }));
      } catch (err) {
        // OpenSSL refuses an all-zero shared secret (RFC 7748 section 6.1): a low-order point.
        throw codedError(RangeError, ErrorCode.HANDSHAKE, 'The X25519 public key is of low order: expected a valid point', err);
      }
    },
  };
}

const BLOCK_LENGTH = 64;
const HASH_LENGTH = 32;
const IPAD = 0x36;
const OPAD = 0x5c;

/**
 * The Noise hash over one-shot crypto.hash with a latin1 digest: node:crypto hands back a short
 * string far more cheaply than a Buffer (0.3 us against 1 us per MixHash, measured), so HMAC
 * (RFC 2104) is two such hashes over ipad and opad blocks laid out in reused scratch arrays,
 * against 2.5 us for a createHmac object; HKDF (Noise spec section 4.3) also keys its second
 * and third HMAC with the pads of the temporary key computed once. A digest string lives as
 * briefly as a 32-byte Uint8Array would (both sit on V8's young heap, which no code can wipe);
 * the scratch arrays hold key pads and are zeroed after every call.
 */
function createOneShotHash(name: NoiseHashName, algorithm: string, oneShot: LatinHash): NoiseHash {
  let input = new Uint8Array(256);
  // inner: (K ^ ipad) || message; outer: (K ^ opad) || inner digest.
  const outer = new Uint8Array(BLOCK_LENGTH + HASH_LENGTH);
  const outerView = outer.subarray(0, BLOCK_LENGTH + HASH_LENGTH);
  // The HKDF output HMACs: (temp ^ ipad) || previous output || counter byte.
  const inner2 = new Uint8Array(BLOCK_LENGTH + HASH_LENGTH + 1);
  const first = inner2.subarray(0, BLOCK_LENGTH + 1);
  const later = inner2.subarray(0, BLOCK_LENGTH + HASH_LENGTH + 1);
  const outer2 = new Uint8Array(BLOCK_LENGTH + HASH_LENGTH);

  const room = (n: number): Uint8Array => {
    if (n > input.length) {
      input.fill(0);
      input = new Uint8Array(Math.max(n, input.length * 2));
    }
    return input;
  };
  const digest = (data: Uint8Array): string => oneShot(algorithm, data, 'latin1');
  const decode = (text: string, out: Uint8Array, at: number): void => {
    for (let i = 0; i < HASH_LENGTH; i++) out[at + i] = text.charCodeAt(i);
  };
  const hash = (a: Uint8Array, b?: Uint8Array): Uint8Array => {
    const out = new Uint8Array(HASH_LENGTH);
    if (b === undefined) {
      decode(digest(a), out, 0);
      return out;
    }
    const n = a.length + b.length;
    const buf = room(n);
    buf.set(a);
    buf.set(b, a.length);
    decode(digest(buf.subarray(0, n)), out, 0);
    buf.fill(0, 0, n);
    return out;
  };
  // Writes the ipad block of `key` into `ipad` and the opad block into `opad` (RFC 2104 section 2).
  const pads = (key: Uint8Array, ipad: Uint8Array, opad: Uint8Array): void => {
    const k = key.length > BLOCK_LENGTH ? hash(key) : key;
    for (let i = 0; i < BLOCK_LENGTH; i++) {
      const x = i < k.length ? k[i]! : 0;
      ipad[i] = x ^ IPAD;
      opad[i] = x ^ OPAD;
    }
    if (k !== key) k.fill(0);
  };
  // HMAC(key, a || b), the digest string; leaves outer holding the pads (caller zeroes it).
  const mac = (key: Uint8Array, a: Uint8Array, b: Uint8Array | undefined): string => {
    const n = BLOCK_LENGTH + a.length + (b?.length ?? 0);
    const buf = room(n);
    pads(key, buf, outer);
    buf.set(a, BLOCK_LENGTH);
    if (b !== undefined) buf.set(b, BLOCK_LENGTH + a.length);
    decode(digest(buf.subarray(0, n)), outer, BLOCK_LENGTH);
    buf.fill(0, 0, n);
    return digest(outerView);
  };
  return {
    name,
    hashLen: HASH_LENGTH,
    hash,
    hmac(key, a, b) {
      const out = new Uint8Array(HASH_LENGTH);
      decode(mac(key, a, b), out, 0);
      outer.fill(0);
      return out;
    },
    hkdf(ck, ikm, outputs) {
      const temp = mac(ck, ikm, undefined);
      outer.fill(0);
      for (let i = 0; i < BLOCK_LENGTH; i++) {
        const x = i < HASH_LENGTH ? temp.charCodeAt(i) : 0;
        inner2[i] = x ^ IPAD;
        outer2[i] = x ^ OPAD;
      }
      const result: Uint8Array[] = [];
      for (let n = 1; n <= outputs; n++) {
        // T(n) = HMAC(temp, T(n-1) || n) (RFC 5869 section 2.3, empty info, T(0) empty).
        const data = n === 1 ? first : later;
        data[data.length - 1] = n;
        decode(digest(data), outer2, BLOCK_LENGTH);
        const text = digest(outer2);
        const out = new Uint8Array(HASH_LENGTH);
        decode(text, out, 0);
        decode(text, inner2, BLOCK_LENGTH);
        result.push(out);
      }
      inner2.fill(0);
      outer2.fill(0);
      return result;
    },
  };
}

function createHash(c: NodeCryptoModule, name: NoiseHashName): NoiseHash {
  const algorithm = name === 'BLAKE2s' ? 'blake2s256' : 'sha256';
  const oneShot = (c as unknown as { hash?: LatinHash }).hash;
  // crypto.hash: Node >= 20.12 and Deno 2; older runtimes keep the Hash and Hmac objects.
  if (oneShot !== undefined) return createOneShotHash(name, algorithm, oneShot);
  const hmac = (key: Uint8Array, a: Uint8Array, b?: Uint8Array): Uint8Array => {
    const h = c.createHmac(algorithm, key).update(a);
    if (b !== undefined) h.update(b);
    return plain(h.digest());
  };
  return {
    name,
    hashLen: HASH_LENGTH,
    hash(a, b) {
      const h = c.createHash(algorithm).update(a);
      if (b !== undefined) h.update(b);
      return plain(h.digest());
    },
    hmac,
    hkdf: (ck, ikm, outputs) => hkdfFromHmac(hmac, ck, ikm, outputs),
  };
}

function createNativeBackend(c: NodeCryptoModule): CryptoBackend {
  const hashes = { BLAKE2s: createHash(c, 'BLAKE2s'), SHA256: createHash(c, 'SHA256') } as const;
  return { name: 'native', aead: createAead(c), x25519: createX25519(c), hash: (name) => hashes[name] };
}

const nodeCrypto = loadNodeCrypto();

/** The native backend, or null when this runtime's node:crypto lacks ChaCha20-Poly1305 or X25519. */
export const nativeCryptoBackend: CryptoBackend | null = nodeCrypto === null ? null : createNativeBackend(nodeCrypto);

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

/**
 * libsodium (the sodium-native addon) as the native backend's ChaCha20-Poly1305 and X25519.
 * This is the only file that loads it. It loads at run time, so a platform without a prebuilt
 * addon (or a Deno run without --allow-ffi) gets `libsodium === null` and the native backend
 * keeps node:crypto for both (native-crypto.ts).
 *
 * Why, measured on Node 20 (docs/crypto.md sections 1 and 6): node:crypto charges a cipher object or a
 * KeyObject per operation, libsodium a plain call on bytes. An X25519 key pair costs 15 us
 * against 39 (OpenSSL's generator pays for a KeyObject and its public export), importing a
 * peer's public key nothing against 8 us, a 64-byte seal 0.7 us against 5.7, a 16 KiB seal
 * 10.4 us against 18.5. A shared secret costs the same on both (35-36 us).
 */
import { checkAeadInputs, checkRoom } from '../crypto/bytes.ts';
import { bytesX25519 } from '../crypto/bytes-x25519.ts';
import { fromHex } from '../protocol/bytes.ts';
import { CRYPTO_PROVIDERS, KEY_LENGTH, NONCE_LENGTH, TAG_LENGTH, type Aead, type X25519 } from '../crypto/types.ts';
import { builtin } from './builtin.ts';
import { uninitializedBytes } from './uninitialized.ts';

/** The part of sodium-native's API this file uses (it ships no TypeScript types). */
export interface Sodium {
  randombytes_buf(buffer: Uint8Array): void;
  /** Throws when the result is all zeros (a low-order point). */
  crypto_scalarmult(q: Uint8Array, n: Uint8Array, p: Uint8Array): void;
  crypto_scalarmult_base(q: Uint8Array, n: Uint8Array): void;
  crypto_aead_chacha20poly1305_ietf_encrypt_detached(
    c: Uint8Array,
    mac: Uint8Array,
    m: Uint8Array,
    ad: Uint8Array | null,
    nsec: null,
    npub: Uint8Array,
    k: Uint8Array,
  ): number;
  /** Throws when the tag does not verify (and then zeroes `m`). */
  crypto_aead_chacha20poly1305_ietf_decrypt_detached(
    m: Uint8Array,
    nsec: null,
    c: Uint8Array,
    mac: Uint8Array,
    ad: Uint8Array | null,
    npub: Uint8Array,
    k: Uint8Array,
  ): void;
}

// Known answers a loaded addon must give before anything trusts it: RFC 7748 section 6.1
// (Alice's private and public key) and the tag of RFC 8439 section 2.8.2.
const RFC7748_PRIVATE = '77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a';
const RFC7748_PUBLIC = '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a';
const RFC8439 = {
  key: '808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f',
  nonce: '070000004041424344454647',
  ad: '50515253c0c1c2c3c4c5c6c7',
  plaintext: "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
  tag: '1ae10b594f09e26a7e902ecbd0600691',
};

function sameBytes(a: Uint8Array, hex: string): boolean {
  const b = fromHex(hex);
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function passesKnownAnswers(sodium: Sodium): boolean {
  const pub = new Uint8Array(KEY_LENGTH);
  sodium.crypto_scalarmult_base(pub, fromHex(RFC7748_PRIVATE));
  const plaintext = new TextEncoder().encode(RFC8439.plaintext);
  const tag = new Uint8Array(TAG_LENGTH);
  const body = new Uint8Array(plaintext.length);
  sodium.crypto_aead_chacha20poly1305_ietf_encrypt_detached(body, tag, plaintext, fromHex(RFC8439.ad), null, fromHex(RFC8439.nonce), fromHex(RFC8439.key));
  return sameBytes(pub, RFC7748_PUBLIC) && sameBytes(tag, RFC8439.tag);
}

function loadSodium(): Sodium | null {
  try {
    const mod = builtin<typeof import('node:module')>('node:module');
    if (mod === undefined) return null;
    const sodium = mod.createRequire(import.meta.url)('sodium-native') as Sodium;
    return passesKnownAnswers(sodium) ? sodium : null;
  } catch {
    return null;
  }
}

/** libsodium, or null where the addon does not load (the native backend then uses node:crypto alone). */
export const libsodium: Sodium | null = loadSodium();

/**
 * Bytes outside V8's heap. A `new Uint8Array(n)` of up to 64 bytes lives on the heap: the
 * scavenger copies it (leaving stale copies of a secret behind), and the first time native code
 * sees it V8 moves it out to a fresh allocation (about 2 us, more than a 64-byte seal). An
 * ArrayBuffer's store is allocated outside and stays put, so wiping it wipes the only copy.
 */
function offHeap(length: number): Uint8Array {
  return new Uint8Array(new ArrayBuffer(length));
}

// V8 keeps typed arrays of up to this many bytes on its heap (typed_array_max_size_in_heap).
const ON_HEAP_MAX = 64;

/**
 * Fixed off-heap staging for the small arguments of one libsodium call at a time (JavaScript is
 * single-threaded and no call here re-enters): copying 12-64 bytes in and out costs tens of
 * nanoseconds where handing libsodium the caller's on-heap arrays would cost microseconds.
 * Every call wipes the key, message and AD bytes it staged, also when it throws; nonces and
 * tags are public.
 */
const stage = {
  key: offHeap(KEY_LENGTH),
  nonce: offHeap(NONCE_LENGTH),
  tag: offHeap(TAG_LENGTH),
  point: offHeap(KEY_LENGTH),
  result: offHeap(KEY_LENGTH),
  input: offHeap(ON_HEAP_MAX),
  output: offHeap(ON_HEAP_MAX),
  ad: offHeap(ON_HEAP_MAX),
};

/** `bytes` itself when large (already off the heap), else a staged copy in `into`. */
function staged(bytes: Uint8Array, into: Uint8Array): Uint8Array {
  if (bytes.length > ON_HEAP_MAX) return bytes;
  const view = into.subarray(0, bytes.length);
  view.set(bytes);
  return view;
}

/** Zeroes the staged key and the staged message and AD bytes of a call. */
function wipeStage(messageLength: number, ad: Uint8Array | null): void {
  stage.key.fill(0);
  if (messageLength <= ON_HEAP_MAX) {
    stage.input.fill(0, 0, messageLength);
    stage.output.fill(0, 0, messageLength);
  }
  if (ad !== null && ad.length <= ON_HEAP_MAX) stage.ad.fill(0, 0, ad.length);
}

/** Copies a checked key or nonce into its staging buffer. */
function stageFixed(bytes: Uint8Array, into: Uint8Array): Uint8Array {
  into.set(bytes);
  return into;
}

/** True when a and b share memory without starting at the same byte (in-place needs a === b). */
function overlapsShifted(a: Uint8Array, b: Uint8Array): boolean {
  if (a.buffer !== b.buffer || a.byteOffset === b.byteOffset) return false;
  return a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

/** ChaCha20-Poly1305 (RFC 8439) through libsodium's IETF construction, for every size. */
export function createSodiumAead(sodium: Sodium): Aead {
  const seal = sodium.crypto_aead_chacha20poly1305_ietf_encrypt_detached.bind(sodium);
  const open = sodium.crypto_aead_chacha20poly1305_ietf_decrypt_detached.bind(sodium);
  const sealInto: Aead['sealInto'] = (key, nonce, ad, plaintext, out, offset) => {
    const length = plaintext.length;
    const n = length + TAG_LENGTH;
    checkAeadInputs(key, nonce);
    checkRoom(out, offset, n);
    const target = out.subarray(offset, offset + length);
    const small = length <= ON_HEAP_MAX;
    // libsodium encrypts in place when ciphertext and plaintext start at the same byte; any
    // other overlap would read bytes it has already written, so such a plaintext is copied.
    const input = small ? staged(plaintext, stage.input) : overlapsShifted(target, plaintext) ? plaintext.slice() : plaintext;
    try {
      const a = ad === null || ad.length === 0 ? null : staged(ad, stage.ad);
      const body = small ? stage.output.subarray(0, length) : target;
      seal(body, stage.tag, input, a, null, stageFixed(nonce, stage.nonce), stageFixed(key, stage.key));
      if (small) target.set(body);
      out.set(stage.tag, offset + length);
    } finally {
      wipeStage(length, ad);
      if (!small && input !== plaintext) input.fill(0);
    }
    return n;
  };
  /** open and openInPlace: the tag is checked before anything is decrypted. */
  function openSealed(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array | null, sealed: Uint8Array, inPlace: boolean): Uint8Array | null {
    checkAeadInputs(key, nonce);
    if (sealed.length < TAG_LENGTH) return null;
    const length = sealed.length - TAG_LENGTH;
    const body = sealed.subarray(0, length);
    const small = length <= ON_HEAP_MAX;
    // On a bad tag libsodium zeroes the output, and it is dropped.
    const target = small ? stage.output.subarray(0, length) : inPlace ? body : uninitializedBytes(length);
    try {
      const a = ad === null || ad.length === 0 ? null : staged(ad, stage.ad);
      stage.tag.set(sealed.subarray(length));
      try {
        open(target, null, small ? staged(body, stage.input) : body, stage.tag, a, stageFixed(nonce, stage.nonce), stageFixed(key, stage.key));
      } catch {
        return null;
      }
      if (!small) return target;
      if (!inPlace) return target.slice();
      body.set(target);
      return body;
    } finally {
      wipeStage(length, ad);
    }
  }
  return {
    sealInto,
    seal(key, nonce, ad, plaintext) {
      const out = uninitializedBytes(plaintext.length + TAG_LENGTH);
      sealInto(key, nonce, ad, plaintext, out, 0);
      return out;
    },
    open: (key, nonce, ad, ciphertext) => openSealed(key, nonce, ad, ciphertext, false),
    openInPlace: (key, nonce, ad, sealed) => openSealed(key, nonce, ad, sealed, true),
  };
}

/** X25519 (RFC 7748) through libsodium; key handles hold raw bytes, so nothing is imported. */
export function createSodiumX25519(sodium: Sodium): X25519 {
  return bytesX25519({
    backend: 'native',
    provider: CRYPTO_PROVIDERS.libsodium,
    label: 'libsodium',
    randomPrivate() {
      const privateKey = offHeap(KEY_LENGTH);
      sodium.randombytes_buf(privateKey);
      return privateKey;
    },
    copyPrivate(privateKey) {
      const copy = offHeap(KEY_LENGTH);
      copy.set(privateKey);
      return copy;
    },
    publicFrom(privateKey) {
      sodium.crypto_scalarmult_base(stage.point, privateKey);
      return stage.point.slice();
    },
    shared(privateKey, publicKey) {
      stage.point.set(publicKey);
      try {
        sodium.crypto_scalarmult(stage.result, privateKey, stage.point);
        return stage.result.slice();
      } finally {
        stage.result.fill(0);
      }
    },
  });
}

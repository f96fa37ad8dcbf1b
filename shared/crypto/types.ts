/**
 * The primitive interfaces a crypto backend provides: ChaCha20-Poly1305 (RFC 8439), X25519
 * (RFC 7748) and the two Noise hash functions (Noise spec rev 34, sections 4.1 to 4.3).
 * Two backends implement them: native (libsodium and node:crypto, in shared/runtime/) and pure
 * (@noble, in noble-backend.ts). Both must produce identical bytes.
 */

/** Names of the selectable backends. */
export type CryptoBackendName = 'native' | 'noble';

/** The libraries behind each backend form (CryptoBackend.provider, DhPublicKey.provider). */
export const CRYPTO_PROVIDERS = {
  /** Native with the libsodium addon: its AEAD and X25519, node:crypto's hashes. */
  libsodium: 'libsodium + node:crypto',
  /** Native on node:crypto alone. */
  nodeCrypto: 'node:crypto',
  noble: '@noble',
} as const;

/** One of CRYPTO_PROVIDERS. */
export type CryptoProvider = (typeof CRYPTO_PROVIDERS)[keyof typeof CRYPTO_PROVIDERS];

/** Names of the Noise hash functions this project speaks (Noise spec section 12.8 and 12.9). */
export type NoiseHashName = 'BLAKE2s' | 'SHA256';

/** ChaCha20-Poly1305 with a 12-byte nonce and a 16-byte tag (RFC 8439 section 2.8). */
export interface Aead {
  /**
   * Encrypts `plaintext` and writes ciphertext||tag into `out` from `offset`.
   * Returns the number of bytes written (plaintext.length + 16). `ad` null means empty.
   */
  sealInto(
    key: Uint8Array,
    nonce: Uint8Array,
    ad: Uint8Array | null,
    plaintext: Uint8Array,
    out: Uint8Array,
    offset: number,
  ): number;
  /** Encrypts `plaintext` into a new array holding ciphertext||tag. */
  seal(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array | null, plaintext: Uint8Array): Uint8Array;
  /** Authenticates and decrypts ciphertext||tag; returns null when authentication fails. */
  open(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array | null, ciphertext: Uint8Array): Uint8Array | null;
  /**
   * Optional: authenticates ciphertext||tag and decrypts it where it lies, returning the view
   * `sealed[0, length - 16)`, or null when authentication fails (the bytes of `sealed` are then
   * unspecified). Backends that would only copy leave it out (CipherState then calls open).
   */
  openInPlace?(key: Uint8Array, nonce: Uint8Array, ad: Uint8Array | null, sealed: Uint8Array): Uint8Array | null;
}

/**
 * A local X25519 key pair as the backend holds it (native: a KeyObject, so a static key is
 * imported once and reused; noble: the raw private bytes).
 */
export interface DhKeyPair {
  /** The 32-byte public key. */
  readonly publicKey: Uint8Array;
  /** The backend that made this pair; handles never cross backends. */
  readonly backend: CryptoBackendName;
  /** Drops (native) or zeroes (noble) the private key; the pair is unusable afterwards. */
  destroy(): void;
}

/** A remote X25519 public key as the backend holds it (native on node:crypto: a KeyObject). */
export interface DhPublicKey {
  /** The 32-byte public key. */
  readonly bytes: Uint8Array;
  /** The backend that made this handle. */
  readonly backend: CryptoBackendName;
  /** The backend form that made it: the two native forms share a name, not their handles. */
  readonly provider: CryptoProvider;
}

/** X25519 Diffie-Hellman (RFC 7748 section 5, Noise spec section 12.1). */
export interface X25519 {
  /** A fresh random key pair (the private key never leaves the backend). */
  generateKeyPair(): DhKeyPair;
  /** Imports a 32-byte private key and derives its public key. */
  keyPairFromPrivate(privateKey: Uint8Array): DhKeyPair;
  /** Imports a 32-byte public key. */
  publicKey(bytes: Uint8Array): DhPublicKey;
  /**
   * The 32-byte shared secret. Throws (code HANDSHAKE) when the result is all zeros, which
   * happens only for low-order public keys (RFC 7748 section 6.1; both backends refuse).
   */
  dh(local: DhKeyPair, remote: DhPublicKey): Uint8Array;
}

/** A Noise hash function with its HMAC (HASHLEN 32, BLOCKLEN 64 for both BLAKE2s and SHA256). */
export interface NoiseHash {
  readonly name: NoiseHashName;
  readonly hashLen: 32;
  /** HASH(a || b). */
  hash(a: Uint8Array, b?: Uint8Array): Uint8Array;
  /** HMAC-HASH(key, a || b) (RFC 2104). */
  hmac(key: Uint8Array, a: Uint8Array, b?: Uint8Array): Uint8Array;
  /**
   * HKDF(chaining_key, input_key_material, num_outputs) of Noise spec section 4.3: `outputs`
   * new HASHLEN-byte arrays (hkdf.ts has the reference construction from hmac).
   */
  hkdf(chainingKey: Uint8Array, ikm: Uint8Array, outputs: 2 | 3): Uint8Array[];
}

/** Everything the Noise layer needs from one backend. */
export interface CryptoBackend {
  readonly name: CryptoBackendName;
  /** The libraries behind it, for logs and test names: "libsodium + node:crypto", "@noble". */
  readonly provider: CryptoProvider;
  readonly aead: Aead;
  readonly x25519: X25519;
  /** The hash function for a Noise protocol name's hash part. */
  hash(name: NoiseHashName): NoiseHash;
}

/** Bytes of a ChaCha20-Poly1305 tag. */
export const TAG_LENGTH = 16;
/** Bytes of a ChaCha20-Poly1305 or X25519 key. */
export const KEY_LENGTH = 32;
/** Bytes of a ChaCha20-Poly1305 nonce (RFC 8439 section 2.8). */
export const NONCE_LENGTH = 12;

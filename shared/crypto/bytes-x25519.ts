/**
 * X25519 (RFC 7748) for backends whose library works on raw key bytes (noble, libsodium): the
 * key handles and the checks every backend owes its callers, in one place, with the library
 * supplying only the arithmetic. The errors are shared with the node:crypto backend, whose
 * handles hold KeyObjects instead.
 */
import { ErrorCode, codedError } from '../errors.ts';
import { checkKeyLength } from './bytes.ts';
import type { CryptoBackendName, CryptoProvider, DhKeyPair, DhPublicKey, X25519 } from './types.ts';

/** BAD_KEY: a key handle made by another backend (or the other native form). */
export function foreignHandleError(expected: string): Error {
  return codedError(TypeError, ErrorCode.BAD_KEY, `The key handles come from another backend: expected ${expected} handles`);
}

/** CLOSED: DH with a key pair after destroy(). */
export function destroyedPairError(): Error {
  return codedError(Error, ErrorCode.CLOSED, 'The X25519 key pair was destroyed: expected a live key');
}

/** HANDSHAKE: the library refused an all-zero shared secret (RFC 7748 section 6.1). */
export function lowOrderError(cause: unknown): Error {
  return codedError(RangeError, ErrorCode.HANDSHAKE, 'The X25519 public key is of low order: expected a valid point', cause);
}

/** What a byte-based library supplies. */
export interface X25519Arithmetic {
  readonly backend: CryptoBackendName;
  readonly provider: CryptoProvider;
  /** Names the handles in errors ("noble", "libsodium"). */
  readonly label: string;
  /** A fresh random private key, in memory the pair then owns (zeroed on destroy). */
  randomPrivate(): Uint8Array;
  /** A copy of a checked 32-byte private key, in memory the pair then owns. */
  copyPrivate(privateKey: Uint8Array): Uint8Array;
  /** The public key of a private key. */
  publicFrom(privateKey: Uint8Array): Uint8Array;
  /** DH(privateKey, publicKey); throws when the result is all zeros (a low-order point). */
  shared(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
}

/**
 * The X25519 of one byte-based library. Each call defines its own handle classes, so the
 * handles of two backends never pass for each other.
 */
export function bytesX25519(math: X25519Arithmetic): X25519 {
  class KeyPair implements DhKeyPair {
    readonly backend = math.backend;
    readonly publicKey: Uint8Array;
    /** The private scalar, or null once destroyed. */
    privateKey: Uint8Array | null;
    constructor(privateKey: Uint8Array) {
      this.privateKey = privateKey;
      this.publicKey = math.publicFrom(privateKey);
    }
    destroy(): void {
      this.privateKey?.fill(0);
      this.privateKey = null;
    }
  }

  class PublicKey implements DhPublicKey {
    readonly backend = math.backend;
    readonly provider = math.provider;
    readonly bytes: Uint8Array;
    constructor(bytes: Uint8Array) {
      this.bytes = bytes;
    }
  }

  return {
    generateKeyPair: () => new KeyPair(math.randomPrivate()),
    keyPairFromPrivate(privateKey) {
      checkKeyLength(privateKey, 'X25519 private key');
      return new KeyPair(math.copyPrivate(privateKey));
    },
    publicKey(bytes) {
      checkKeyLength(bytes, 'X25519 public key');
      return new PublicKey(bytes.slice());
    },
    dh(local, remote) {
      if (!(local instanceof KeyPair) || !(remote instanceof PublicKey)) throw foreignHandleError(math.label);
      if (local.privateKey === null) throw destroyedPairError();
      try {
        return math.shared(local.privateKey, remote.bytes);
      } catch (err) {
        throw lowOrderError(err);
      }
    },
  };
}

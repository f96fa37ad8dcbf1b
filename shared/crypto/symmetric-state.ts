/**
 * Noise SymmetricState (Noise spec rev 34, section 5.2) and Noise's HKDF (section 4.3).
 */
import { ErrorCode, codedError } from '../errors.ts';
import { wipe } from './bytes.ts';
import { CipherState, type CipherStateOptions } from './cipher-state.ts';
import type { Aead, NoiseHash } from './types.ts';

const EMPTY = new Uint8Array(0);

/**
 * HKDF(chaining_key, input_key_material, num_outputs) of section 4.3 (RFC 5869 with the chaining
 * key as salt and empty info), as the backend's hash computes it. Every output is HASHLEN bytes.
 */
export function noiseHkdf(hash: NoiseHash, ck: Uint8Array, ikm: Uint8Array, outputs: 2 | 3): Uint8Array[] {
  return hash.hkdf(ck, ikm, outputs);
}

const initialHashes = new Map<string, Uint8Array>();

/** h of InitializeSymmetric(): the padded name, or HASH(name) when longer than HASHLEN. Memoized. */
function initialHash(hash: NoiseHash, protocolName: string): Uint8Array {
  let h = initialHashes.get(protocolName);
  if (h === undefined) {
    const name = new TextEncoder().encode(protocolName);
    if (name.length <= hash.hashLen) {
      h = new Uint8Array(hash.hashLen);
      h.set(name);
    } else {
      h = hash.hash(name);
    }
    // The name carries the hash function, so it alone keys the cache; a few names per process.
    if (initialHashes.size < 64) initialHashes.set(protocolName, h);
  }
  return h.slice();
}

/** A Noise SymmetricState: chaining key ck, handshake hash h and a CipherState. */
export class SymmetricState {
  readonly #aead: Aead;
  readonly #hash: NoiseHash;
  readonly #cipher: CipherState;
  #ck: Uint8Array;
  #h: Uint8Array;

  /** InitializeSymmetric(protocol_name). */
  constructor(aead: Aead, hash: NoiseHash, protocolName: string) {
    this.#aead = aead;
    this.#hash = hash;
    this.#cipher = new CipherState(aead);
    this.#h = initialHash(hash, protocolName);
    this.#ck = this.#h.slice();
  }

  /** MixKey(input_key_material). */
  mixKey(ikm: Uint8Array): void {
    const [ck, k] = noiseHkdf(this.#hash, this.#ck, ikm, 2) as [Uint8Array, Uint8Array];
    wipe(this.#ck);
    this.#ck = ck;
    this.#cipher.initializeKey(k);
  }

  /** MixHash(data): h = HASH(h || data). */
  mixHash(data: Uint8Array): void {
    this.#h = this.#hash.hash(this.#h, data);
  }

  /** MixKeyAndHash(input_key_material), used by the psk token (section 9). */
  mixKeyAndHash(ikm: Uint8Array): void {
    const [ck, th, k] = noiseHkdf(this.#hash, this.#ck, ikm, 3) as [Uint8Array, Uint8Array, Uint8Array];
    wipe(this.#ck);
    this.#ck = ck;
    this.mixHash(th);
    wipe(th);
    this.#cipher.initializeKey(k);
  }

  /** GetHandshakeHash(): a copy of h. */
  handshakeHash(): Uint8Array {
    return this.#h.slice();
  }

  /** True when the CipherState has a key. */
  hasKey(): boolean {
    return this.#cipher.hasKey();
  }

  /** EncryptAndHash(plaintext). */
  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.#cipher.encryptWithAd(this.#h, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  /** DecryptAndHash(ciphertext). Throws DECRYPT_FAILED on a bad tag. */
  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const plaintext = this.#cipher.decryptWithAd(this.#h, ciphertext);
    this.mixHash(ciphertext);
    return plaintext;
  }

  /**
   * Split(): the two transport CipherStates (initiator-to-responder first). Wipes ck and the
   * handshake key afterwards, so this state can do nothing more.
   */
  split(options: CipherStateOptions = {}): [CipherState, CipherState] {
    if (this.#ck.length === 0) throw codedError(Error, ErrorCode.CLOSED, 'The handshake was already split: expected one split');
    const [k1, k2] = noiseHkdf(this.#hash, this.#ck, EMPTY, 2) as [Uint8Array, Uint8Array];
    this.destroy();
    return [new CipherState(this.#aead, k1, options), new CipherState(this.#aead, k2, options)];
  }

  /** Wipes ck and the handshake cipher key. */
  destroy(): void {
    wipe(this.#ck);
    this.#ck = EMPTY;
    this.#cipher.destroy();
  }
}

/**
 * Noise CipherState (Noise spec rev 34, section 5.1) with the transport features the data plane
 * needs: a 64-bit counter nonce that can never repeat, lockstep rekeying every N messages
 * (section 11.3), copy-free encryption into a caller's buffer, and key wiping.
 *
 * The counter is kept as two uint32 halves so it is exact to 2^64 - 1 without BigInt on the hot
 * path. Nonce 2^64 - 1 is reserved (section 5.1): once the counter reaches it, every encrypt and
 * decrypt throws NONCE_EXHAUSTED. A failed decrypt throws DECRYPT_FAILED and changes nothing,
 * so neither side's counter or key ever moves out of step with what was authenticated.
 */
import { ErrorCode, codedError } from '../errors.ts';
import { wipe } from './bytes.ts';
import { KEY_LENGTH, NONCE_LENGTH, TAG_LENGTH, type Aead } from './types.ts';

/** Noise messages are at most 65535 bytes (Noise spec section 3). */
export const NOISE_MAX_MESSAGE = 65535;
/** The largest plaintext one transport message can carry. */
export const MAX_PLAINTEXT = NOISE_MAX_MESSAGE - TAG_LENGTH;
/** Default messages between lockstep rekeys (2^20: about 16 GiB at 16 KiB per message). */
export const DEFAULT_REKEY_INTERVAL = 2 ** 20;

const U32_MAX = 0xffffffff;
// Section 4.2: REKEY(k) = ENCRYPT(k, maxnonce, zerolen, zeros)[0..32], maxnonce = 2^64 - 1.
const MAX_NONCE = new Uint8Array([0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
const ZEROS = new Uint8Array(KEY_LENGTH);

/** Options of a CipherState. */
export interface CipherStateOptions {
  /**
   * Messages after which both sides call Rekey() in lockstep (section 11.3). 0 disables it (the
   * handshake's own CipherState). Default DEFAULT_REKEY_INTERVAL for transport states.
   */
  rekeyInterval?: number;
}

/** A Noise CipherState: key k and counter nonce n. */
export class CipherState {
  readonly #aead: Aead;
  #key: Uint8Array | null = null;
  #lo = 0;
  #hi = 0;
  readonly #nonce = new Uint8Array(NONCE_LENGTH);
  readonly #view = new DataView(this.#nonce.buffer);
  readonly #rekeyInterval: number;
  #sinceRekey = 0;
  #destroyed = false;

  /** Takes ownership of `key` (it is wiped when replaced or destroyed). */
  constructor(aead: Aead, key: Uint8Array | null = null, options: CipherStateOptions = {}) {
    const interval = options.rekeyInterval ?? 0;
    if (!Number.isSafeInteger(interval) || interval < 0) {
      throw codedError(RangeError, ErrorCode.BAD_CONFIG, `The rekeyInterval is ${interval}: expected a non-negative integer`);
    }
    this.#aead = aead;
    this.#rekeyInterval = interval;
    this.initializeKey(key);
  }

  /** True when a key is set (HasKey()). */
  hasKey(): boolean {
    return this.#key !== null;
  }

  /** Sets the key (taking ownership; the old one is wiped) and resets the nonce to 0 (InitializeKey()). */
  initializeKey(key: Uint8Array | null): void {
    this.#checkLive();
    if (key !== null && key.length !== KEY_LENGTH) {
      throw codedError(RangeError, ErrorCode.BAD_KEY, `The cipher key has ${key.length} bytes: expected ${KEY_LENGTH}`);
    }
    if (this.#key !== key) wipe(this.#key);
    this.#key = key;
    this.#lo = 0;
    this.#hi = 0;
    this.#sinceRekey = 0;
  }

  /** The next nonce to be used. */
  get nonce(): bigint {
    return (BigInt(this.#hi) << 32n) | BigInt(this.#lo);
  }

  /** Sets the nonce (SetNonce(), section 5.1). Moving it backwards re-opens used nonces: tests only. */
  setNonce(n: bigint): void {
    if (n < 0n || n > 0xffffffffffffffffn) {
      throw codedError(RangeError, ErrorCode.NONCE_EXHAUSTED, `The nonce ${n} is out of range: expected 0 to 2^64 - 1`);
    }
    this.#hi = Number(n >> 32n);
    this.#lo = Number(n & 0xffffffffn);
  }

  /** EncryptWithAd(): the plaintext itself when no key is set (handshake messages before MixKey). */
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    if (this.#key === null) {
      this.#checkLive();
      return plaintext;
    }
    return this.encrypt(plaintext, ad);
  }

  /** DecryptWithAd(): the ciphertext itself when no key is set. */
  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    if (this.#key === null) {
      this.#checkLive();
      return ciphertext;
    }
    return this.decrypt(ciphertext, ad);
  }

  /** Encrypts one transport message; returns ciphertext||tag in one new array. */
  encrypt(plaintext: Uint8Array, ad: Uint8Array | null = null): Uint8Array {
    const key = this.#ready(plaintext.length);
    const out = this.#aead.seal(key, this.#nonce, ad, plaintext);
    this.#advance();
    return out;
  }

  /**
   * Encrypts one transport message into `out` from `offset` (room for plaintext.length + 16
   * bytes), so a caller can put a header in front without another copy. Returns bytes written.
   */
  encryptInto(out: Uint8Array, offset: number, plaintext: Uint8Array, ad: Uint8Array | null = null): number {
    const need = plaintext.length + TAG_LENGTH;
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + need > out.length) {
      throw codedError(RangeError, ErrorCode.BUFFER_LIMIT, `The output has no room: expected ${need} bytes from offset ${offset}`);
    }
    const key = this.#ready(plaintext.length);
    const written = this.#aead.sealInto(key, this.#nonce, ad, plaintext, out, offset);
    this.#advance();
    return written;
  }

  /**
   * Encrypts `buffer[0, length)` in place and appends the tag, returning the message view
   * `buffer[0, length + 16)`. The data plane's fast path: write frames into a buffer with
   * TAG_LENGTH bytes of tail room, then encrypt it without allocating (bench/crypto.ts "in-place").
   */
  encryptInPlace(buffer: Uint8Array, length: number, ad: Uint8Array | null = null): Uint8Array {
    if (!Number.isSafeInteger(length) || length < 0 || length > buffer.length) {
      throw codedError(RangeError, ErrorCode.BUFFER_LIMIT, `The length ${length} is outside the ${buffer.length}-byte buffer`);
    }
    const written = this.encryptInto(buffer, 0, buffer.subarray(0, length), ad);
    return buffer.subarray(0, written);
  }

  /** Decrypts one transport message. Throws DECRYPT_FAILED, leaving the state unchanged. */
  decrypt(ciphertext: Uint8Array, ad: Uint8Array | null = null): Uint8Array {
    return this.#open(this.#aead.open, ciphertext, ad);
  }

  /**
   * Decrypts one transport message where it lies (the backend's openInPlace, else a copy from
   * open) and returns the plaintext view `ciphertext[0, length - 16)`: for a receiver that owns
   * the message buffer and drops the ciphertext anyway. Throws DECRYPT_FAILED, leaving the
   * state unchanged and the buffer's bytes unspecified.
   */
  decryptInPlace(ciphertext: Uint8Array, ad: Uint8Array | null = null): Uint8Array {
    const openInPlace = this.#aead.openInPlace;
    if (openInPlace !== undefined) return this.#open(openInPlace, ciphertext, ad);
    const plaintext = this.decrypt(ciphertext, ad);
    ciphertext.set(plaintext);
    return ciphertext.subarray(0, plaintext.length);
  }

  /** Rekey() (section 4.2 REKEY): replaces k by a one-way function of k; the nonce carries on. */
  rekey(): void {
    this.#checkLive();
    const key = this.#key;
    if (key === null) throw codedError(Error, ErrorCode.CLOSED, 'The cipher has no key to rekey: expected a keyed CipherState');
    const block = this.#aead.seal(key, MAX_NONCE, null, ZEROS);
    this.#key = block.slice(0, KEY_LENGTH);
    wipe(block, key);
  }

  /** Wipes the key; every later call throws CLOSED. */
  destroy(): void {
    wipe(this.#key);
    this.#key = null;
    this.#destroyed = true;
  }

  #checkLive(): void {
    if (this.#destroyed) throw codedError(Error, ErrorCode.CLOSED, 'The cipher state was destroyed: expected a live session');
  }

  #ready(plaintextLength: number): Uint8Array {
    const key = this.#key;
    if (key === null) {
      this.#checkLive();
      throw codedError(Error, ErrorCode.CLOSED, 'The cipher has no key: expected a finished handshake');
    }
    if (plaintextLength > MAX_PLAINTEXT) {
      throw codedError(RangeError, ErrorCode.FRAME_TOO_LARGE, `The plaintext has ${plaintextLength} bytes: expected at most ${MAX_PLAINTEXT}`);
    }
    if (this.#lo === U32_MAX && this.#hi === U32_MAX) {
      throw codedError(RangeError, ErrorCode.NONCE_EXHAUSTED, 'The nonce counter reached 2^64 - 1: expected a new session');
    }
    // Section 5.1 (ChaChaPoly): 32 zero bits then the 64-bit little-endian counter.
    this.#view.setUint32(4, this.#lo, true);
    this.#view.setUint32(8, this.#hi, true);
    return key;
  }

  /** Decrypt and authenticate with `open` (one of the backend's), then move the counter on. */
  #open(open: Aead['open'], ciphertext: Uint8Array, ad: Uint8Array | null): Uint8Array {
    if (ciphertext.length > NOISE_MAX_MESSAGE) {
      throw codedError(RangeError, ErrorCode.FRAME_TOO_LARGE, `The message has ${ciphertext.length} bytes: expected at most ${NOISE_MAX_MESSAGE}`);
    }
    const key = this.#ready(0);
    const plaintext = open.call(this.#aead, key, this.#nonce, ad, ciphertext);
    if (plaintext === null) {
      throw codedError(Error, ErrorCode.DECRYPT_FAILED, 'The message failed authentication: expected a ciphertext made with this key and nonce');
    }
    this.#advance();
    return plaintext;
  }

  #advance(): void {
    this.#lo = (this.#lo + 1) >>> 0;
    if (this.#lo === 0) this.#hi = (this.#hi + 1) >>> 0;
    if (this.#rekeyInterval > 0 && ++this.#sinceRekey >= this.#rekeyInterval) {
      this.#sinceRekey = 0;
      this.rekey();
    }
  }
}

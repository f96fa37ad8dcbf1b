/**
 * X25519 keys as bytes and as text. The text form is unpadded base64url of the 32 raw bytes
 * (43 characters), the same for private and public keys; `apfsds keygen` prints it and config
 * files hold it.
 */
import { ErrorCode, codedError } from '../errors.ts';
import { cryptoBackend } from './backend.ts';
import { encodeBase64url, tryDecodeBase64url } from './base64url.ts';
import { KEY_LENGTH, type CryptoBackend } from './types.ts';

/** Characters in the text form of a 32-byte key. */
export const ENCODED_KEY_LENGTH = 43;

/** A raw X25519 key pair. */
export interface KeyPairBytes {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

/** The text form of a 32-byte key. Throws BAD_KEY for any other length. */
export function encodeKey(key: Uint8Array): string {
  if (!(key instanceof Uint8Array) || key.length !== KEY_LENGTH) {
    throw codedError(RangeError, ErrorCode.BAD_KEY, `The key to encode is not ${KEY_LENGTH} bytes: expected an X25519 key`);
  }
  return encodeBase64url(key);
}

/**
 * Decodes the text form of a key, ignoring surrounding whitespace (key files end with a
 * newline). `field` names the key in the error (a config path such as "exits[2].publicKey").
 * Throws BAD_KEY saying whether the length, the alphabet or the trailing bits were wrong.
 */
export function decodeKey(text: string, field = 'key'): Uint8Array {
  if (typeof text !== 'string') {
    throw codedError(TypeError, ErrorCode.BAD_KEY, `The ${field} is not a string: expected ${ENCODED_KEY_LENGTH} base64url characters`);
  }
  const trimmed = text.trim();
  if (trimmed.length !== ENCODED_KEY_LENGTH) {
    const hint = trimmed.length === 44 && trimmed.endsWith('=') ? ' (padding "=" is not used)' : '';
    throw codedError(
      RangeError,
      ErrorCode.BAD_KEY,
      `The ${field} has ${trimmed.length} characters${hint}: expected ${ENCODED_KEY_LENGTH} base64url characters (32 bytes)`,
    );
  }
  const result = tryDecodeBase64url(trimmed);
  if (result instanceof Uint8Array) return result;
  if (result.kind === 'alphabet') {
    throw codedError(
      SyntaxError,
      ErrorCode.BAD_KEY,
      `The ${field} has "${result.char}" at position ${result.index}: expected only base64url characters A-Z a-z 0-9 - _`,
    );
  }
  throw codedError(SyntaxError, ErrorCode.BAD_KEY, `The ${field} is not canonical base64url: expected its last character's unused bits to be zero`);
}

/**
 * A new random private key, clamped as RFC 7748 section 5 describes (as `wg genkey` does), so
 * the stored bytes are exactly the scalar used.
 */
export function generatePrivateKey(): Uint8Array {
  const key = globalThis.crypto.getRandomValues(new Uint8Array(KEY_LENGTH));
  key[0] = key[0]! & 248;
  key[31] = (key[31]! & 127) | 64;
  return key;
}

/** The public key of a 32-byte private key. */
export function derivePublicKey(privateKey: Uint8Array, backend: CryptoBackend = cryptoBackend()): Uint8Array {
  const pair = backend.x25519.keyPairFromPrivate(privateKey);
  const publicKey = pair.publicKey.slice();
  pair.destroy();
  return publicKey;
}

/** A new random key pair as raw bytes. */
export function generateKeyPair(backend: CryptoBackend = cryptoBackend()): KeyPairBytes {
  const privateKey = generatePrivateKey();
  return { privateKey, publicKey: derivePublicKey(privateKey, backend) };
}

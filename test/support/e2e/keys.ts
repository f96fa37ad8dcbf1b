/**
 * Key material for generated role configs: fresh X25519 pairs in the text form config files
 * take (shared/crypto keys), written as 0600 key files the way operators are told to keep
 * them, plus random secret paths and tokens.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeKey, generateKeyPair } from '../../../shared/crypto/keys.ts';

/** A key pair as config text (43 base64url characters each). */
export interface KeyText {
  privateKey: string;
  publicKey: string;
}

/** A new random key pair. */
export function newKeyPair(): KeyText {
  const pair = generateKeyPair();
  return { privateKey: encodeKey(pair.privateKey), publicKey: encodeKey(pair.publicKey) };
}

/** Writes `pair.privateKey` to `dir/name.key` with mode 0600 and returns the file path. */
export function writeKeyFile(dir: string, name: string, pair: KeyText): string {
  const path = join(dir, `${name}.key`);
  writeFileSync(path, `${pair.privateKey}\n`, { mode: 0o600 });
  return path;
}

/** A secret path such as "/t-3f9c2a1b7d0e". */
export function secretPathOf(prefix: string): string {
  return `/${prefix}-${randomBytes(6).toString('hex')}`;
}

/** A random admin token (32 hex characters). */
export function newToken(): string {
  return randomBytes(16).toString('hex');
}

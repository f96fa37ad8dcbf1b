/**
 * Chooses the crypto backend at run time: native (node:crypto) when this runtime has it, else
 * the pure @noble backend. APFSDS_CRYPTO=native|noble|auto or an explicit argument overrides
 * the choice; asking for native where it is missing is a configuration error, not a silent
 * fallback.
 */
import { ErrorCode, codedError } from '../errors.ts';
import { nativeCryptoBackend } from '../runtime/native-crypto.ts';
import { nobleBackend } from './noble-backend.ts';
import type { CryptoBackend, CryptoBackendName } from './types.ts';

/** What a caller or APFSDS_CRYPTO may ask for. */
export type CryptoBackendChoice = CryptoBackendName | 'auto';

/** The environment variable that picks the default backend. */
export const CRYPTO_BACKEND_ENV = 'APFSDS_CRYPTO';

/** Backends usable on this runtime, native first. */
export function availableCryptoBackends(): CryptoBackend[] {
  return nativeCryptoBackend === null ? [nobleBackend] : [nativeCryptoBackend, nobleBackend];
}

function readEnv(): string | undefined {
  // Feature-detected rather than imported: Node and Deno 2 both expose `process.env`.
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const value = proc?.env?.[CRYPTO_BACKEND_ENV];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * The backend for `choice` (default: APFSDS_CRYPTO, else auto). Throws BAD_CONFIG for an
 * unknown name or for `native` on a runtime without it.
 */
export function cryptoBackend(choice?: CryptoBackendChoice): CryptoBackend {
  const fromEnv = choice === undefined;
  const wanted = choice ?? readEnv() ?? 'auto';
  const where = fromEnv ? `${CRYPTO_BACKEND_ENV}` : 'The crypto backend';
  switch (wanted) {
    case 'auto':
      return nativeCryptoBackend ?? nobleBackend;
    case 'noble':
      return nobleBackend;
    case 'native':
      if (nativeCryptoBackend === null) {
        throw codedError(
          Error,
          ErrorCode.BAD_CONFIG,
          `${where} asks for native but this runtime's node:crypto lacks ChaCha20-Poly1305 or X25519: use noble or auto`,
        );
      }
      return nativeCryptoBackend;
    default:
      throw codedError(RangeError, ErrorCode.BAD_CONFIG, `${where} is "${wanted}": expected native, noble or auto`);
  }
}

/** Cryptography of APFSDS: backends, Noise, keys and the replay guard. */
export * from './types.ts';
export * from './backend.ts';
export { nobleBackend } from './noble-backend.ts';
export * from './bytes.ts';
export * from './base64url.ts';
export * from './keys.ts';
export * from './cipher-state.ts';
export * from './symmetric-state.ts';
export * from './patterns.ts';
export * from './static-key.ts';
export * from './handshake-state.ts';
export * from './session.ts';
export * from './replay-guard.ts';

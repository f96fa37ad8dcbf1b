/** Config schemas, loading and key material for every role (see docs/configuration.md). */
export * from './base64url.ts';
export * from './client.ts';
export * from './common.ts';
export * from './env.ts';
export * from './exit.ts';
export * from './handler.ts';
export * from './issues.ts';
export * from './keys.ts';
export * from './load.ts';
export * from './primitives.ts';
export * from './up.ts';

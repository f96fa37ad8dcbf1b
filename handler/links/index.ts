/** Links from the handler to exits: dialing, reverse accepts, pooling and heartbeats. */
export { LinkPool, type LinkPoolOptions, type LinkOpenResult } from './pool.ts';
export { DialSlot, type SlotHost } from './dial-slot.ts';
export { ExitLink, type ExitLinkOptions, type LinkDirection } from './link.ts';
export { acceptExitLink, dialExitLink, exitKeyBytes, type AcceptLinkOptions, type DialLinkOptions, type LinkDialer } from './connect.ts';
export { backoffDelay, DEFAULT_LINK_BACKOFF, type BackoffOptions } from './backoff.ts';
export { linkHello, frameLengthOf } from './hello.ts';

/** The handler's public side: listener, decoy routing, client sessions, limits and accounting. */
export { Gateway, type GatewayOptions } from './gateway.ts';
export { ClientSession, originTag, type SessionDeps } from './client-session.ts';
export { Accounts, UserAccount, type AccountsOptions, type Closable, type Reservation } from './accounts.ts';
export { UsageLedger, type UsageLedgerOptions } from './usage.ts';
export { TokenBucket, type TokenBucketOptions } from './token-bucket.ts';
export { ConnectionRateLimiter, clientAddress, type ConnectionRateOptions } from './ip-limiter.ts';
export { ActivityTransport } from './activity.ts';
export { sessionHello } from './session-hello.ts';

/** The client role: local SOCKS5/HTTP proxy, session pool, relays (docs/client.md). */
export { startClient, type RoleOptions, type RunningClient } from './main.ts';
export { SessionPool, type SessionPoolOptions, type SessionDialer, type DialHooks, type PooledSession, type AcquireOptions } from './session-pool.ts';
export { createSessionDialer, clientHello, describeDialError, urlOrigin, CLIENT_SESSION_WINDOW, type SessionDialOptions, type DialStage } from './session-dialer.ts';
export { backoffDelay, checkBackoff, type BackoffOptions } from './backoff.ts';
export { bridge, type BridgeOptions, type BridgeResult, type UploadStep } from './bridge.ts';
export { openTunnel, endpointOf, MAX_OPEN_ATTEMPTS, type TunnelRequest, type TunnelResult } from './tunnel.ts';
export { proxyFailureForReason, proxyFailureForError } from './open-failure.ts';
export { listenLocalProxy, type LocalProxyAddress } from './local-proxy.ts';
export { PROXY_HANDSHAKE_TIMEOUT_MS, type ProxyContext } from './context.ts';

/**
 * What the local proxy tells an app when a tunnel OPEN fails. Reasons are named abstractly;
 * the client maps shared/protocol's OPEN_FAIL codes onto them. Table also in docs/routing.md.
 */

/** Why a requested connection could not be made. */
export type ProxyFailureReason =
  | 'policy'
  | 'quota'
  | 'unreachable_net'
  | 'unreachable_host'
  | 'refused'
  | 'timeout'
  | 'dns'
  | 'no_exit'
  | 'unsupported_command'
  | 'unsupported_address'
  | 'general';

/** The SOCKS5 REP (RFC 1928 section 6) and HTTP status for one failure reason. */
export type ProxyFailureReply = { readonly socks5: number; readonly httpStatus: number };

/**
 * The mapping. A timeout is SOCKS5 0x06 ("TTL expired"), the code curl and most clients
 * report as a timeout, and HTTP 504; a missing exit is a network we cannot reach (0x03) and a
 * temporarily unavailable service (503), which invites a retry.
 */
export const PROXY_FAILURES: { readonly [K in ProxyFailureReason]: ProxyFailureReply } = {
  policy: { socks5: 0x02, httpStatus: 403 },
  quota: { socks5: 0x02, httpStatus: 403 },
  unreachable_net: { socks5: 0x03, httpStatus: 502 },
  unreachable_host: { socks5: 0x04, httpStatus: 502 },
  refused: { socks5: 0x05, httpStatus: 502 },
  timeout: { socks5: 0x06, httpStatus: 504 },
  dns: { socks5: 0x04, httpStatus: 502 },
  no_exit: { socks5: 0x03, httpStatus: 503 },
  unsupported_command: { socks5: 0x07, httpStatus: 501 },
  unsupported_address: { socks5: 0x08, httpStatus: 400 },
  general: { socks5: 0x01, httpStatus: 502 },
};

/** SOCKS5 reply code for a failure reason. */
export function socks5ReplyForFailure(reason: ProxyFailureReason): number {
  return PROXY_FAILURES[reason].socks5;
}

/** HTTP status for a failure reason. */
export function httpStatusForFailure(reason: ProxyFailureReason): number {
  return PROXY_FAILURES[reason].httpStatus;
}

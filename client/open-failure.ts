/**
 * What an app is told when its tunnel cannot open: the OPEN_FAIL reason of docs/protocol.md
 * 2.5 (or a local failure such as "no session") mapped onto client/proxy's ProxyFailureReason,
 * which fixes the SOCKS5 REP and HTTP status (docs/routing.md, "When the tunnel cannot open").
 */
import { ErrorCode, hasCode } from '../shared/errors.ts';
import { OpenFailReason, type OpenFailReasonValue } from '../shared/protocol/codes.ts';
import type { ProxyFailureReason } from './proxy/failure.ts';

/** The proxy failure for an OPEN_FAIL reason. Agrees with socks5ReplyFor on every SOCKS5 code. */
export function proxyFailureForReason(reason: OpenFailReasonValue): ProxyFailureReason {
  switch (reason) {
    case OpenFailReason.NOT_ALLOWED:
      return 'policy';
    case OpenFailReason.QUOTA_EXCEEDED:
      return 'quota';
    case OpenFailReason.NETWORK_UNREACHABLE:
      return 'unreachable_net';
    case OpenFailReason.HOST_UNREACHABLE:
      return 'unreachable_host';
    case OpenFailReason.CONNECTION_REFUSED:
      return 'refused';
    case OpenFailReason.TIMEOUT:
      return 'timeout';
    case OpenFailReason.NETWORK_NOT_SUPPORTED:
      return 'unsupported_command';
    case OpenFailReason.ADDRESS_TYPE_NOT_SUPPORTED:
      return 'unsupported_address';
    case OpenFailReason.NO_EXIT:
      return 'no_exit';
    case OpenFailReason.DNS_FAILURE:
      return 'dns';
    case OpenFailReason.GENERAL_FAILURE:
    case OpenFailReason.STREAM_LIMIT:
    case OpenFailReason.EXIT_UNAVAILABLE:
      return 'general';
  }
}

/**
 * The proxy failure for an error from opening a tunnel: OPEN_FAILED carries the exit's or the
 * handler's verdict; TIMEOUT means no OPEN answer came in time (SOCKS5 0x06, HTTP 504);
 * anything else (no session, session lost, cancelled) is a general failure (0x01, HTTP 502).
 */
export function proxyFailureForError(err: unknown): ProxyFailureReason {
  if (hasCode(err, ErrorCode.OPEN_FAILED)) {
    const reason = (err as { reason?: unknown }).reason;
    if (typeof reason === 'number') return proxyFailureForReason(reason as OpenFailReasonValue);
    return 'general';
  }
  if (hasCode(err, ErrorCode.TIMEOUT)) return 'timeout';
  if (hasCode(err, ErrorCode.UNSUPPORTED)) return 'unsupported_command';
  return 'general';
}

/**
 * Why an egress open failed, in the two vocabularies that need it: the OPEN_FAIL reason the
 * handler and client see (docs/protocol.md 2.5, SOCKS5 REP values) and the short label of
 * the `apfsds_exit_open_failures_total` metric.
 */
import { ErrorCode, hasCode } from '../../shared/errors.ts';
import { OpenFailReason, type OpenFailReasonValue } from '../../shared/protocol/codes.ts';

/** Label values of the open-failures metric. */
export type OpenFailureLabel =
  | 'policy'
  | 'dns'
  | 'refused'
  | 'timeout'
  | 'unreachable'
  | 'unsupported'
  | 'cancelled'
  | 'error';

/** A failed open: what to answer and how to count it. */
export interface EgressFailure {
  readonly reason: OpenFailReasonValue;
  readonly label: OpenFailureLabel;
  /** Short detail for debug logs (system code, policy reason); never user data. */
  readonly detail: string;
}

/** Builds an EgressFailure. */
export function egressFailure(reason: OpenFailReasonValue, label: OpenFailureLabel, detail: string): EgressFailure {
  return { reason, label, detail };
}

/** The system error code (ECONNREFUSED, ENOTFOUND, ...) somewhere in an error's cause chain. */
export function systemCode(err: unknown): string | undefined {
  let cur: unknown = err;
  for (let depth = 0; depth < 4 && cur instanceof Error; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && !code.startsWith('APFSDS_')) return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

// RFC 1928 section 6 replies map one to one onto the socket errors that produce them.
const SYSTEM_CODES: Readonly<Record<string, [OpenFailReasonValue, OpenFailureLabel]>> = {
  ECONNREFUSED: [OpenFailReason.CONNECTION_REFUSED, 'refused'],
  ENETUNREACH: [OpenFailReason.NETWORK_UNREACHABLE, 'unreachable'],
  ENETDOWN: [OpenFailReason.NETWORK_UNREACHABLE, 'unreachable'],
  EHOSTUNREACH: [OpenFailReason.HOST_UNREACHABLE, 'unreachable'],
  EHOSTDOWN: [OpenFailReason.HOST_UNREACHABLE, 'unreachable'],
  ETIMEDOUT: [OpenFailReason.TIMEOUT, 'timeout'],
  EAFNOSUPPORT: [OpenFailReason.ADDRESS_TYPE_NOT_SUPPORTED, 'unsupported'],
  EADDRNOTAVAIL: [OpenFailReason.ADDRESS_TYPE_NOT_SUPPORTED, 'unsupported'],
};

/** Maps a dialTcp() rejection to the OPEN_FAIL answer. */
export function connectFailure(err: unknown): EgressFailure {
  if (hasCode(err, ErrorCode.TIMEOUT)) return egressFailure(OpenFailReason.TIMEOUT, 'timeout', 'connect timeout');
  if (hasCode(err, ErrorCode.ABORTED)) return egressFailure(OpenFailReason.GENERAL_FAILURE, 'cancelled', 'cancelled');
  const sys = systemCode(err);
  const mapped = sys === undefined ? undefined : SYSTEM_CODES[sys];
  if (mapped !== undefined) return egressFailure(mapped[0], mapped[1], sys ?? '');
  return egressFailure(OpenFailReason.GENERAL_FAILURE, 'error', sys ?? (err instanceof Error ? err.message : String(err)));
}

/** Maps a resolveHost() rejection: a lookup that timed out or failed is DNS_FAILURE (0x11). */
export function resolveFailure(err: unknown): EgressFailure {
  if (hasCode(err, ErrorCode.ABORTED)) return egressFailure(OpenFailReason.GENERAL_FAILURE, 'cancelled', 'cancelled');
  const sys = systemCode(err);
  return egressFailure(OpenFailReason.DNS_FAILURE, 'dns', sys ?? (hasCode(err, ErrorCode.TIMEOUT) ? 'dns timeout' : 'dns error'));
}

// When every address failed, the answer that tells the app most wins: a destination that
// answered (refused) beats one that timed out, which beats a route that does not exist.
const RANK: Readonly<Record<number, number>> = {
  [OpenFailReason.CONNECTION_REFUSED]: 6,
  [OpenFailReason.TIMEOUT]: 5,
  [OpenFailReason.HOST_UNREACHABLE]: 4,
  [OpenFailReason.NETWORK_UNREACHABLE]: 3,
  [OpenFailReason.ADDRESS_TYPE_NOT_SUPPORTED]: 2,
  [OpenFailReason.GENERAL_FAILURE]: 1,
};

/** The more informative of two failures (the first on a tie). */
export function moreInformative(a: EgressFailure, b: EgressFailure): EgressFailure {
  return (RANK[b.reason] ?? 0) > (RANK[a.reason] ?? 0) ? b : a;
}

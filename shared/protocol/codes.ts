/**
 * Reason codes carried by OPEN_FAIL, RESET and GOAWAY (docs/protocol.md section "Codes").
 * Values 0x01-0x08 of OpenFailReason are the SOCKS5 REP values of RFC 1928 section 6, so the
 * client answers a SOCKS5 CONNECT with the exit's own verdict unchanged.
 */

/** Why an OPEN was refused; the byte of an OPEN_FAIL body. */
export const OpenFailReason = {
  GENERAL_FAILURE: 0x01,
  NOT_ALLOWED: 0x02,
  NETWORK_UNREACHABLE: 0x03,
  HOST_UNREACHABLE: 0x04,
  CONNECTION_REFUSED: 0x05,
  TIMEOUT: 0x06,
  NETWORK_NOT_SUPPORTED: 0x07,
  ADDRESS_TYPE_NOT_SUPPORTED: 0x08,
  NO_EXIT: 0x10,
  DNS_FAILURE: 0x11,
  QUOTA_EXCEEDED: 0x12,
  STREAM_LIMIT: 0x13,
  EXIT_UNAVAILABLE: 0x14,
} as const;

/** One of the OpenFailReason values. */
export type OpenFailReasonValue = (typeof OpenFailReason)[keyof typeof OpenFailReason];

/** Why a stream (RESET) or a whole session or link (GOAWAY) ends; one code space, as RFC 9113 7. */
export const CloseCode = {
  NO_ERROR: 0x00,
  PROTOCOL_ERROR: 0x01,
  INTERNAL_ERROR: 0x02,
  FLOW_CONTROL_ERROR: 0x03,
  STREAM_CLOSED: 0x04,
  CANCEL: 0x05,
  REFUSED: 0x06,
  CONNECTION_RESET: 0x07,
  IDLE_TIMEOUT: 0x08,
  POLICY: 0x09,
  UPSTREAM_LOST: 0x0a,
  OVERLOADED: 0x0b,
} as const;

/** One of the CloseCode values. */
export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode];

/** SOCKS5 reply codes (RFC 1928 section 6). */
export const Socks5Reply = {
  SUCCEEDED: 0x00,
  GENERAL_FAILURE: 0x01,
  NOT_ALLOWED: 0x02,
  NETWORK_UNREACHABLE: 0x03,
  HOST_UNREACHABLE: 0x04,
  CONNECTION_REFUSED: 0x05,
  TTL_EXPIRED: 0x06,
  COMMAND_NOT_SUPPORTED: 0x07,
  ADDRESS_TYPE_NOT_SUPPORTED: 0x08,
} as const;

/** One of the Socks5Reply values. */
export type Socks5ReplyValue = (typeof Socks5Reply)[keyof typeof Socks5Reply];

const OPEN_FAIL_REASONS = new Set<number>(Object.values(OpenFailReason));
const CLOSE_CODES = new Set<number>(Object.values(CloseCode));

/** True when `n` is a defined OpenFailReason. */
export function isOpenFailReason(n: number): n is OpenFailReasonValue {
  return OPEN_FAIL_REASONS.has(n);
}

/** True when `n` is a defined CloseCode. */
export function isCloseCode(n: number): n is CloseCodeValue {
  return CLOSE_CODES.has(n);
}

/** The SOCKS5 REP a client sends its app for an OPEN_FAIL reason (table in docs/protocol.md). */
export function socks5ReplyFor(reason: OpenFailReasonValue): Socks5ReplyValue {
  switch (reason) {
    case OpenFailReason.NO_EXIT:
      return Socks5Reply.NETWORK_UNREACHABLE;
    case OpenFailReason.DNS_FAILURE:
      return Socks5Reply.HOST_UNREACHABLE;
    case OpenFailReason.QUOTA_EXCEEDED:
      return Socks5Reply.NOT_ALLOWED;
    case OpenFailReason.STREAM_LIMIT:
    case OpenFailReason.EXIT_UNAVAILABLE:
      return Socks5Reply.GENERAL_FAILURE;
    default:
      // 0x01-0x08 are SOCKS5 REP values by construction.
      return reason;
  }
}

/**
 * True when a handler may retry the OPEN on another exit (docs/protocol.md, "Retry"): the exit
 * either never saw the stream or failed for a reason of its own, not of the destination.
 */
export function isRetryableOpenFail(reason: OpenFailReasonValue): boolean {
  return reason === OpenFailReason.EXIT_UNAVAILABLE || reason === OpenFailReason.STREAM_LIMIT;
}

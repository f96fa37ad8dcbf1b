/**
 * One port, two protocols (sing-box's "mixed" inbound): the first byte an app sends says
 * which. SOCKS5 opens with its version byte 0x05 (RFC 1928 section 3); an HTTP request opens
 * with a method token, in practice upper-case ASCII (RFC 9110 section 9.1).
 */

/** What the first byte of a local connection announces. */
export type DetectedProtocol = 'socks5' | 'http' | 'socks4' | 'tls' | 'unknown' | 'need_more';

/**
 * Classifies a connection from its first bytes. 'socks4' and 'tls' (an app speaking HTTPS to
 * the proxy port, 0x16 = TLS handshake record) are recognised only to log a clear reason
 * before closing; neither is served.
 */
export function detectProxyProtocol(first: Uint8Array): DetectedProtocol {
  if (first.length === 0) return 'need_more';
  const b = first[0] as number;
  if (b === 0x05) return 'socks5';
  if (b === 0x04) return 'socks4';
  if (b === 0x16) return 'tls';
  if (b >= 0x41 && b <= 0x5a) return 'http';
  return 'unknown';
}

/**
 * SOCKS4 "request rejected or failed" (reply code 0x5B), so a SOCKS4 app sees a refusal it
 * understands instead of a bare close.
 */
export function socks4Rejection(): Uint8Array {
  return new Uint8Array([0x00, 0x5b, 0, 0, 0, 0, 0, 0]);
}

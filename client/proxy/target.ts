/**
 * The destination an app asks the local proxy for. Shaped like shared/protocol's Endpoint
 * (SOCKS5 ATYP numbers, canonical host text) so it can be handed to OPEN unchanged.
 */
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../../shared/net/ip.ts';

/** Address types, numbered as SOCKS5 ATYP (RFC 1928 section 5). */
export const TargetType = { IPV4: 0x01, DOMAIN: 0x03, IPV6: 0x04 } as const;

/** One of the TargetType values. */
export type TargetTypeValue = (typeof TargetType)[keyof typeof TargetType];

/** A destination: canonical IPv4/IPv6 text (RFC 5952) or a lowercased domain name. */
export type ProxyTarget = {
  readonly addressType: TargetTypeValue;
  readonly host: string;
  readonly port: number;
};

/** Longest domain a SOCKS5 request (one length byte) or an OPEN frame can carry. */
export const MAX_DOMAIN_LENGTH = 255;

/**
 * True for a name the exit's resolver may be asked about: 1-255 chars of letters, digits,
 * '-', '_' and '.', or non-ASCII (an IDN U-label). Anything else (spaces, '/', '@', '%',
 * control bytes) can only be an attempt to confuse a later parser, so it is refused here.
 */
export function isValidDomain(name: string): boolean {
  if (name.length === 0 || name.length > MAX_DOMAIN_LENGTH) return false;
  if (name.startsWith('.') || name.includes('..')) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const ok =
      (c >= 0x61 && c <= 0x7a) ||
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x30 && c <= 0x39) ||
      c === 0x2d ||
      c === 0x2e ||
      c === 0x5f ||
      c >= 0x80;
    if (!ok) return false;
  }
  return true;
}

/**
 * Builds a target from host text (IPv4, bare IPv6, or a domain) and a port, or returns null
 * when the host or port is invalid. An IP literal sent as a "domain" becomes an IP target, so
 * the exit never resolves it.
 */
export function targetFromHost(host: string, port: number): ProxyTarget | null {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) return null;
  const v4 = parseIPv4(host);
  if (v4 !== null) return { addressType: TargetType.IPV4, host: formatIPv4(v4), port };
  if (host.includes(':')) {
    const v6 = parseIPv6(host);
    return v6 === null ? null : { addressType: TargetType.IPV6, host: formatIPv6(v6), port };
  }
  if (!isValidDomain(host)) return null;
  return { addressType: TargetType.DOMAIN, host: host.toLowerCase(), port };
}

/** "host:port" with IPv6 in brackets (RFC 3986 section 3.2.2), for logs and Host headers. */
export function formatTarget(target: ProxyTarget): string {
  const host = target.addressType === TargetType.IPV6 ? `[${target.host}]` : target.host;
  return `${host}:${target.port}`;
}

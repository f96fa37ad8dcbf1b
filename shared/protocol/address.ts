/**
 * Endpoints (address type, host, port) as OPEN and DATAGRAM carry them, in the SOCKS5 shape of
 * RFC 1928 section 5: ATYP u8, then 4 bytes (IPv4), 1 length byte + name (domain) or 16 bytes
 * (IPv6), then the port as u16. IP hosts travel as bytes and surface as canonical text
 * (dotted quad; RFC 5952 for IPv6), so exits and policy code deal in strings only.
 */
import { codedError, ErrorCode } from '../errors.ts';
import { AddressType, MAX_DOMAIN_LENGTH, type AddressTypeValue } from './constants.ts';
import { readU16, writeU16 } from './bytes.ts';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../net/ip.ts';

// IP text <-> bytes lives in shared/net/ip.ts (one strict parser for the codec, the proxy and
// the egress policy); re-exported here because endpoints are where the codec meets it.
export { formatIPv4, formatIPv6, parseIPv4, parseIPv6 };

/** A destination or source: what to dial, or where a datagram came from. */
export interface Endpoint {
  addressType: AddressTypeValue;
  /** Dotted quad for IPV4, RFC 5952 text for IPV6, the name for DOMAIN (1-255 UTF-8 bytes). */
  host: string;
  port: number;
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** An Endpoint for `host` (IPv4 or IPv6 literal, optionally in brackets, else a domain name). */
export function toEndpoint(host: string, port: number): Endpoint {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const v4 = parseIPv4(bare);
  if (v4 !== null) return { addressType: AddressType.IPV4, host: formatIPv4(v4), port };
  const v6 = parseIPv6(bare);
  if (v6 !== null) return { addressType: AddressType.IPV6, host: formatIPv6(v6), port };
  return { addressType: AddressType.DOMAIN, host, port };
}

/** UTF-8 byte length of `s`; a lone surrogate cannot be sent and is a BAD_ADDRESS. */
function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) throw loneSurrogate();
      n += 4;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) throw loneSurrogate();
    else n += 3;
  }
  return n;
}

function loneSurrogate(): Error {
  return codedError(TypeError, ErrorCode.BAD_ADDRESS, 'Domain name must be well-formed Unicode');
}

/** Bytes `ep` takes on the wire; throws BAD_ADDRESS for an unknown type or a bad domain length. */
export function endpointLength(ep: Endpoint): number {
  switch (ep.addressType) {
    case AddressType.IPV4:
      return 1 + 4 + 2;
    case AddressType.IPV6:
      return 1 + 16 + 2;
    case AddressType.DOMAIN: {
      const n = utf8Length(ep.host);
      if (n < 1 || n > MAX_DOMAIN_LENGTH) {
        throw codedError(
          RangeError,
          ErrorCode.BAD_ADDRESS,
          `Domain name must be 1-${MAX_DOMAIN_LENGTH} bytes of UTF-8, got ${n}`,
        );
      }
      return 1 + 1 + n + 2;
    }
    default:
      throw codedError(
        TypeError,
        ErrorCode.BAD_ADDRESS,
        `Address type must be 1 (ipv4), 3 (domain) or 4 (ipv6), got ${String((ep as Endpoint).addressType)}`,
      );
  }
}

/** Writes `ep` at `o` (caller reserved endpointLength(ep) bytes); returns the offset after it. */
export function writeEndpoint(ep: Endpoint, out: Uint8Array, o: number): number {
  if (!Number.isInteger(ep.port) || ep.port < 0 || ep.port > 0xffff) {
    throw codedError(RangeError, ErrorCode.BAD_ADDRESS, `Port must be an integer 0-65535, got ${ep.port}`);
  }
  out[o++] = ep.addressType;
  if (ep.addressType === AddressType.DOMAIN) {
    const { written } = utf8.encodeInto(ep.host, out.subarray(o + 1));
    out[o] = written;
    o += 1 + written;
  } else {
    const ip = ep.addressType === AddressType.IPV4 ? parseIPv4(ep.host) : parseIPv6(ep.host);
    if (ip === null) {
      throw codedError(TypeError, ErrorCode.BAD_ADDRESS, `Host "${ep.host}" is not a literal of its address type`);
    }
    out.set(ip, o);
    o += ip.length;
  }
  writeU16(out, o, ep.port);
  return o + 2;
}

function badEndpoint(what: string): Error {
  return codedError(SyntaxError, ErrorCode.BAD_FRAME, `Endpoint ${what}`);
}

/**
 * Reads an endpoint from `b[o..end)`; returns it and the offset after it. A short or malformed
 * endpoint is a BAD_FRAME: it sits inside a length-delimited body, so it is not a truncation.
 */
export function readEndpoint(b: Uint8Array, o: number, end: number): [Endpoint, number] {
  if (o >= end) throw badEndpoint('is missing its address type');
  const atyp = b[o++]!;
  let host: string;
  let addressType: AddressTypeValue;
  if (atyp === AddressType.IPV4) {
    if (end - o < 4 + 2) throw badEndpoint('is shorter than an IPv4 address and port');
    addressType = AddressType.IPV4;
    host = formatIPv4(b.subarray(o, o + 4));
    o += 4;
  } else if (atyp === AddressType.IPV6) {
    if (end - o < 16 + 2) throw badEndpoint('is shorter than an IPv6 address and port');
    addressType = AddressType.IPV6;
    host = formatIPv6(b.subarray(o, o + 16));
    o += 16;
  } else if (atyp === AddressType.DOMAIN) {
    if (o >= end) throw badEndpoint('is missing its domain length');
    const n = b[o++]!;
    if (n === 0) throw badEndpoint('has an empty domain name');
    if (end - o < n + 2) throw badEndpoint('is shorter than its domain name and port');
    try {
      host = utf8Strict.decode(b.subarray(o, o + n));
    } catch (cause) {
      throw codedError(SyntaxError, ErrorCode.BAD_FRAME, 'Endpoint domain name must be valid UTF-8', cause);
    }
    addressType = AddressType.DOMAIN;
    o += n;
  } else {
    throw badEndpoint(`has address type ${atyp}, expected 1 (ipv4), 3 (domain) or 4 (ipv6)`);
  }
  return [{ addressType, host, port: readU16(b, o) }, o + 2];
}

/**
 * CIDR prefixes ("10.0.0.0/8", "fc00::/7"): strict parsing for operator config and a
 * byte-wise containment test.
 */
import { codedError, ErrorCode } from '../../shared/errors.ts';
import { embeddedIPv4, formatIP, parseIP } from '../../shared/net/ip.ts';

/** A network prefix: `bytes` has every bit past `prefix` cleared. */
export type Cidr = {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
  readonly prefix: number;
  /** Canonical text, e.g. "2001:db8::/32", used in logs and policy results. */
  readonly text: string;
};

function parsePrefixLength(text: string, max: number): number {
  if (!/^(0|[1-9][0-9]{0,2})$/.test(text)) return -1;
  const n = Number(text);
  return n <= max ? n : -1;
}

/** Copies `bytes` with every bit at or past `prefix` cleared. */
function maskBytes(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = bytes.slice();
  for (let i = 0; i < out.length; i++) {
    const bitsHere = Math.min(8, Math.max(0, prefix - i * 8));
    out[i] = (out[i] as number) & ((0xff << (8 - bitsHere)) & 0xff);
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Parses "address/prefix" or a bare address (a /32 or /128). Refuses host bits past the
 * prefix ("10.0.0.1/8"): such a value is almost always a typo, and silently masking it would
 * open a wider range than the operator read. `field` names the config entry in the error.
 * Throws RangeError with code BAD_CONFIG.
 */
export function parseCidr(text: string, field = 'cidr'): Cidr {
  const bad = (why: string) =>
    codedError(RangeError, ErrorCode.BAD_CONFIG, `${field} "${text}" ${why}`);
  if (typeof text !== 'string') throw bad('is not a string; expected a CIDR such as "10.0.0.0/8"');
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const addr = parseIP(addrText);
  if (addr === null) {
    throw bad('is not a valid IPv4 or IPv6 CIDR; expected e.g. "10.0.0.0/8" or "fc00::/7"');
  }
  const max = addr.family === 4 ? 32 : 128;
  const prefix = slash < 0 ? max : parsePrefixLength(text.slice(slash + 1), max);
  if (prefix < 0) throw bad(`has an invalid prefix length; expected an integer 0-${max}`);
  const bytes = maskBytes(addr.bytes, prefix);
  if (!sameBytes(bytes, addr.bytes)) {
    throw bad(`has host bits set past /${prefix}; expected "${formatIP(bytes)}/${prefix}"`);
  }
  return { family: addr.family, bytes, prefix, text: `${formatIP(bytes)}/${prefix}` };
}

/**
 * Rewrites an IPv6 prefix inside ::ffff:0:0/96 (e.g. "::ffff:10.0.0.0/104") as the IPv4
 * prefix it denotes, so that it matches addresses the policy has already unwrapped to IPv4.
 */
export function normalizeMappedCidr(cidr: Cidr): Cidr {
  if (cidr.family !== 6 || cidr.prefix < 96) return cidr;
  const v4 = embeddedIPv4(cidr.bytes);
  const isMapped = cidr.bytes[10] === 0xff && cidr.bytes[11] === 0xff;
  if (v4 === null || !isMapped) return cidr;
  const prefix = cidr.prefix - 96;
  return { family: 4, bytes: v4, prefix, text: `${formatIP(v4)}/${prefix}` };
}

/** True when `addr` (4 or 16 bytes) lies inside `cidr`; families never match each other. */
export function cidrContains(cidr: Cidr, addr: Uint8Array): boolean {
  if (addr.length !== cidr.bytes.length) return false;
  const full = cidr.prefix >> 3;
  for (let i = 0; i < full; i++) if (addr[i] !== cidr.bytes[i]) return false;
  const rest = cidr.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((addr[full] as number) & mask) === cidr.bytes[full];
}

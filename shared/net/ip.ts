/**
 * IP address text <-> bytes, strict and runtime-neutral.
 *
 * Parsing is deliberately narrower than `inet_aton`: the egress policy runs on the address
 * the resolver returned, so any spelling a resolver would not produce (octal "010.0.0.1",
 * short "127.1", hex "0x7f.0.0.1", zone ids "fe80::1%eth0") is refused rather than guessed
 * at; a parser that guesses differently from the dialer is how SSRF filters get bypassed.
 */

/** A parsed address: 4 bytes for IPv4, 16 bytes for IPv6, network byte order. */
export type IpAddress = { readonly family: 4 | 6; readonly bytes: Uint8Array };

// "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" is the longest valid IPv6 text (45 chars).
const MAX_IPV6_TEXT = 45;

/**
 * Parses dotted-quad IPv4 ("192.0.2.1") into 4 bytes, or null. Each part is 1-3 decimal
 * digits with no leading zero (RFC 6943 section 3.1.1 warns that leading zeros mean octal to
 * some parsers).
 */
export function parseIPv4(text: string): Uint8Array | null {
  if (text.length < 7 || text.length > 15) return null;
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const part = parts[i] as string;
    if (part.length === 0 || part.length > 3) return null;
    if (part.length > 1 && part.charCodeAt(0) === 0x30) return null;
    let value = 0;
    for (let j = 0; j < part.length; j++) {
      const c = part.charCodeAt(j) - 0x30;
      if (c < 0 || c > 9) return null;
      value = value * 10 + c;
    }
    if (value > 255) return null;
    out[i] = value;
  }
  return out;
}

function parseHexGroup(group: string): number {
  if (group.length === 0 || group.length > 4) return -1;
  let value = 0;
  for (let i = 0; i < group.length; i++) {
    const c = group.charCodeAt(i);
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
    else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
    else return -1;
    value = (value << 4) | d;
  }
  return value;
}

/** Parses one side of a "::" split into 16-bit words; an IPv4 tail counts as two words. */
function parseWords(side: string, allowV4Tail: boolean): number[] | null {
  if (side.length === 0) return [];
  const groups = side.split(':');
  const words: number[] = [];
  for (let i = 0; i < groups.length; i++) {
    const group = groups[i] as string;
    if (allowV4Tail && i === groups.length - 1 && group.includes('.')) {
      const v4 = parseIPv4(group);
      if (v4 === null) return null;
      words.push(((v4[0] as number) << 8) | (v4[1] as number));
      words.push(((v4[2] as number) << 8) | (v4[3] as number));
      continue;
    }
    const w = parseHexGroup(group);
    if (w < 0) return null;
    words.push(w);
  }
  return words;
}

/**
 * Parses IPv6 text in every RFC 4291 section 2.2 form ("2001:db8::1", "::", "::ffff:1.2.3.4")
 * into 16 bytes, or null. Zone ids ("%eth0") are refused: a scoped address names an interface
 * on the exit, never a destination a remote user may choose.
 */
export function parseIPv6(text: string): Uint8Array | null {
  if (text.length < 2 || text.length > MAX_IPV6_TEXT) return null;
  if (text.includes('%')) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  let words: number[];
  if (halves.length === 2) {
    const left = parseWords(halves[0] as string, false);
    const right = parseWords(halves[1] as string, true);
    if (left === null || right === null) return null;
    // "::" stands for one or more zero groups (RFC 4291 section 2.2, form 2).
    const missing = 8 - left.length - right.length;
    if (missing < 1) return null;
    words = [...left, ...new Array<number>(missing).fill(0), ...right];
  } else {
    const all = parseWords(text, true);
    if (all === null || all.length !== 8) return null;
    words = all;
  }
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const w = words[i] as number;
    out[i * 2] = w >> 8;
    out[i * 2 + 1] = w & 0xff;
  }
  return out;
}

/** Parses IPv4 or IPv6 text (without brackets or port), or returns null. */
export function parseIP(text: string): IpAddress | null {
  if (text.includes(':')) {
    const bytes = parseIPv6(text);
    return bytes === null ? null : { family: 6, bytes };
  }
  const bytes = parseIPv4(text);
  return bytes === null ? null : { family: 4, bytes };
}

/** Formats 4 bytes as dotted-quad IPv4. */
export function formatIPv4(bytes: Uint8Array): string {
  if (bytes.length !== 4) throw new RangeError(`IPv4 address must be 4 bytes, got ${bytes.length}`);
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/**
 * Formats 16 bytes as canonical IPv6 text (RFC 5952 section 4: lowercase, no leading zeros,
 * the longest run of two or more zero groups compressed, the first run on a tie; section 5:
 * IPv4-mapped addresses keep their dotted tail).
 */
export function formatIPv6(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new RangeError(`IPv6 address must be 16 bytes, got ${bytes.length}`);
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push(((bytes[i * 2] as number) << 8) | (bytes[i * 2 + 1] as number));
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    return `::ffff:${formatIPv4(bytes.subarray(12, 16))}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (bestLen < 2) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}

/** Formats a parsed address (4 or 16 bytes) in its canonical text form. */
export function formatIP(bytes: Uint8Array): string {
  return bytes.length === 4 ? formatIPv4(bytes) : formatIPv6(bytes);
}

/** True when the 16 bytes start with the given prefix bytes. */
function hasPrefix(bytes: Uint8Array, prefix: readonly number[]): boolean {
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

const MAPPED = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];
const TRANSLATED = [0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0];
const COMPATIBLE = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

/**
 * Returns the IPv4 address an IPv6 address stands for on this host, or null: IPv4-mapped
 * ::ffff:a.b.c.d (RFC 4291 2.5.5.2), IPv4-translated ::ffff:0:a.b.c.d (RFC 2765 2.1) and
 * the deprecated IPv4-compatible ::a.b.c.d (RFC 4291 2.5.5.1, excluding :: and ::1). A
 * dual-stack socket dials these as the IPv4 address, so the policy must judge them as IPv4.
 */
export function embeddedIPv4(bytes: Uint8Array): Uint8Array | null {
  if (bytes.length !== 16) return null;
  if (hasPrefix(bytes, MAPPED) || hasPrefix(bytes, TRANSLATED)) return bytes.slice(12, 16);
  if (hasPrefix(bytes, COMPATIBLE)) {
    const tail = bytes.subarray(12, 16);
    // :: and ::1 are the unspecified and loopback addresses, not IPv4-compatible forms.
    if (tail[0] === 0 && tail[1] === 0 && tail[2] === 0 && (tail[3] as number) <= 1) return null;
    return tail.slice();
  }
  return null;
}

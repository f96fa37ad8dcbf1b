/**
 * HTTP/1.x request heads (RFC 9112 sections 2-5): locating the end of the head in a byte
 * stream, and parsing the request line, header fields and request-target authorities. Strict
 * where leniency lets two parsers disagree about a message (obs-fold, space before the colon,
 * bare CR); lenient only where RFC 9112 allows it (a bare LF line end).
 */
import { parseIPv6 } from '../../shared/net/ip.ts';
import { targetFromHost, type ProxyTarget } from './target.ts';

/** One header field, name as received, value trimmed of surrounding whitespace. */
export type HttpHeader = { readonly name: string; readonly value: string };

/** A parsed request head. */
export type RequestHead = {
  readonly method: string;
  readonly target: string;
  readonly version: '1.0' | '1.1';
  readonly headers: readonly HttpHeader[];
};

/** A failed parse: the status to answer with and a sentence for the log. */
export type HeadError = { readonly status: 400 | 431 | 505; readonly message: string };

const LF = 0x0a;
const CR = 0x0d;

/**
 * Index just past the blank line that ends the head (CRLF CRLF, or LF LF as RFC 9112 section
 * 2.2 permits), searching from `from`; -1 if the head is not complete yet.
 */
export function findHeadEnd(buf: Uint8Array, from = 0): number {
  for (let i = Math.max(0, from); i < buf.length; i++) {
    if (buf[i] !== LF) continue;
    if (buf[i + 1] === LF) return i + 2;
    if (buf[i + 1] === CR && buf[i + 2] === LF) return i + 3;
  }
  return -1;
}

/** Decodes bytes one-to-one into chars (ISO-8859-1), so re-encoding restores them exactly. */
export function latin1Decode(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return s;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE_CHAR = /[\x00-\x08\x0a-\x1f\x7f]/;

/** Parses a complete head (as returned by findHeadEnd, decoded with latin1Decode). */
export function parseRequestHead(text: string, maxHeaders: number): RequestHead | HeadError {
  const lines = text.split('\n');
  // Drop the blank line(s) that terminated the head.
  while (lines.length > 0 && (lines[lines.length - 1] === '' || lines[lines.length - 1] === '\r')) lines.pop();
  const clean: string[] = [];
  for (const raw of lines) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    // RFC 9112 section 2.2: a bare CR is invalid.
    if (line.includes('\r')) return { status: 400, message: 'Request head contains a bare CR' };
    clean.push(line);
  }
  const requestLine = clean.shift() ?? '';
  const parts = requestLine.split(' ');
  if (parts.length !== 3) return { status: 400, message: 'Request line must be "METHOD target HTTP/1.1"' };
  const [method, target, version] = parts as [string, string, string];
  if (!TOKEN.test(method)) return { status: 400, message: 'Request method is not a token' };
  if (!/^[\x21-\x7e]+$/.test(target)) return { status: 400, message: 'Request target has invalid characters' };
  const v = /^HTTP\/([0-9])\.([0-9])$/.exec(version);
  if (v === null) return { status: 400, message: 'Request line has no valid HTTP version' };
  if (v[1] !== '1') return { status: 505, message: `HTTP version ${v[1]}.${v[2]} is not supported` };
  if (clean.length > maxHeaders) {
    return { status: 431, message: `Request has ${clean.length} header fields; limit is ${maxHeaders}` };
  }
  const headers: HttpHeader[] = [];
  for (const line of clean) {
    if (line.startsWith(' ') || line.startsWith('\t')) {
      return { status: 400, message: 'Obsolete line folding in header fields is not accepted' };
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return { status: 400, message: 'Header field line has no name' };
    const name = line.slice(0, colon);
    // RFC 9112 section 5.1: no whitespace between field name and colon.
    if (!TOKEN.test(name)) return { status: 400, message: `Header field name "${name}" is not a token` };
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (BAD_VALUE_CHAR.test(value)) return { status: 400, message: `Header field ${name} has control characters` };
    headers.push({ name, value });
  }
  return { method, target, version: v[2] === '0' ? '1.0' : '1.1', headers };
}

/** All values of a header (case-insensitive name), in order. */
export function headerValues(headers: readonly HttpHeader[], name: string): string[] {
  const lower = name.toLowerCase();
  return headers.filter((h) => h.name.toLowerCase() === lower).map((h) => h.value);
}

/** Splits comma-separated list values (RFC 9110 section 5.6.1), dropping empty elements. */
export function listValues(values: readonly string[]): string[] {
  return values
    .flatMap((v) => v.split(','))
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * Parses "host:port", "[v6]:port" or, with `defaultPort`, a bare host (RFC 3986 section
 * 3.2.2). Userinfo, zone ids and unbracketed IPv6 are refused. Returns null when invalid.
 */
export function parseAuthority(text: string, defaultPort: number | null): ProxyTarget | null {
  if (text.includes('@')) return null;
  let host: string;
  let portText: string | null;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close < 0) return null;
    host = text.slice(1, close);
    if (parseIPv6(host) === null) return null;
    const after = text.slice(close + 1);
    if (after === '') portText = null;
    else if (after.startsWith(':')) portText = after.slice(1);
    else return null;
  } else {
    const colon = text.lastIndexOf(':');
    if (colon < 0) {
      host = text;
      portText = null;
    } else {
      host = text.slice(0, colon);
      portText = text.slice(colon + 1);
      if (host.includes(':')) return null;
    }
  }
  let port: number;
  if (portText === null || portText === '') {
    if (defaultPort === null) return null;
    port = defaultPort;
  } else {
    if (!/^[0-9]{1,5}$/.test(portText)) return null;
    port = Number(portText);
    if (port < 1 || port > 0xffff) return null;
  }
  return targetFromHost(host, port);
}

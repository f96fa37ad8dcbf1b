/**
 * SOCKS5 server side (RFC 1928, with RFC 1929 username/password) as a pure, incremental state
 * machine: greeting -> (auth) -> request -> done. Bytes may arrive split anywhere; the parser
 * tells its owner what to write and what was asked for, and never throws on bad input.
 * Every message has a protocol-bounded size (greeting 257, auth 513, request 262 bytes), so the
 * buffer holds at most one partial message plus the chunk being read.
 */
import { ErrorCode, type ErrorCodeValue } from '../../shared/errors.ts';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../../shared/net/ip.ts';
import { matchCredentials, type ProxyCredentials } from './auth.ts';
import { TargetType, targetFromHost, type ProxyTarget } from './target.ts';
import { Socks5Reply } from '../../shared/protocol/codes.ts';

// The reply codes are the wire's: OPEN_FAIL reasons 0x01-0x08 are these very values
// (docs/protocol.md), so one table serves the tunnel and the local proxy.
export { Socks5Reply };

/** SOCKS5 request commands (RFC 1928 section 4). */
export const Socks5Command = { CONNECT: 0x01, BIND: 0x02, UDP_ASSOCIATE: 0x03 } as const;

/** SOCKS5 authentication methods (RFC 1928 section 3). */
export const Socks5Method = { NO_AUTH: 0x00, USER_PASS: 0x02, NO_ACCEPTABLE: 0xff } as const;

/** Where the handshake stands. 'done' and 'failed' are final. */
export type Socks5State = 'greeting' | 'auth' | 'request' | 'done' | 'failed';

/** Parser options. With `users` non-empty, RFC 1929 auth is required. */
export type Socks5Options = {
  readonly users?: readonly ProxyCredentials[];
  /** Accept UDP ASSOCIATE (default false: answered with 0x07). */
  readonly udp?: boolean;
};

/** What the owner must do next. */
export type Socks5Event =
  /** Write these bytes to the app (method selection, auth status). */
  | { readonly type: 'send'; readonly data: Uint8Array }
  /** CONNECT: open a stream to `target`; `rest` is data the app sent ahead of the reply. */
  | {
      readonly type: 'connect';
      readonly target: ProxyTarget;
      readonly user: string | null;
      readonly rest: Uint8Array;
    }
  /** UDP ASSOCIATE: `target` is where the app says it will send from (often 0.0.0.0:0). */
  | {
      readonly type: 'udp_associate';
      readonly target: ProxyTarget;
      readonly user: string | null;
      readonly rest: Uint8Array;
    }
  /** Write `reply` if not null, then close the connection. */
  | {
      readonly type: 'error';
      readonly code: ErrorCodeValue;
      readonly message: string;
      readonly reply: Uint8Array | null;
    };

/** An incremental SOCKS5 handshake parser for one app connection. */
export type Socks5Parser = {
  readonly state: Socks5State;
  /** Feeds bytes from the app; returns the events they complete, in order. */
  push(chunk: Uint8Array): Socks5Event[];
};

/** Result of decoding an ATYP-prefixed address and port. */
export type Socks5AddressDecode =
  | { readonly status: 'ok'; readonly target: ProxyTarget; readonly next: number }
  | { readonly status: 'short' }
  | { readonly status: 'bad'; readonly reply: number; readonly message: string };

const utf8Strict = new TextDecoder('utf-8', { fatal: true });
const utf8 = new TextEncoder();

/**
 * Decodes ATYP, address and port at `offset` (RFC 1928 section 5). 'short' means more bytes
 * are needed; 'bad' carries the reply code to send (0x08 for an unknown ATYP).
 */
export function decodeSocks5Address(buf: Uint8Array, offset: number): Socks5AddressDecode {
  if (buf.length <= offset) return { status: 'short' };
  const atyp = buf[offset] as number;
  let o = offset + 1;
  let host: string;
  if (atyp === TargetType.IPV4) {
    if (buf.length < o + 4 + 2) return { status: 'short' };
    host = formatIPv4(buf.subarray(o, o + 4));
    o += 4;
  } else if (atyp === TargetType.IPV6) {
    if (buf.length < o + 16 + 2) return { status: 'short' };
    host = formatIPv6(buf.subarray(o, o + 16));
    o += 16;
  } else if (atyp === TargetType.DOMAIN) {
    if (buf.length < o + 1) return { status: 'short' };
    const len = buf[o] as number;
    if (buf.length < o + 1 + len + 2) return { status: 'short' };
    try {
      host = utf8Strict.decode(buf.subarray(o + 1, o + 1 + len));
    } catch {
      host = '';
    }
    o += 1 + len;
  } else {
    return {
      status: 'bad',
      reply: Socks5Reply.ADDRESS_TYPE_NOT_SUPPORTED,
      message: `SOCKS5 address type ${atyp} is not supported; expected 1, 3 or 4`,
    };
  }
  const port = ((buf[o] as number) << 8) | (buf[o + 1] as number);
  const target = targetFromHost(host, port);
  if (target === null) {
    return {
      status: 'bad',
      reply: Socks5Reply.HOST_UNREACHABLE,
      message: 'SOCKS5 domain name must be 1-255 bytes of letters, digits, "-", "_" and "."',
    };
  }
  return { status: 'ok', target, next: o + 2 };
}

/** Encodes ATYP, address and port (RFC 1928 section 5). */
export function encodeSocks5Address(target: ProxyTarget): Uint8Array {
  let addr: Uint8Array;
  if (target.addressType === TargetType.DOMAIN) {
    const name = utf8.encode(target.host);
    if (name.length === 0 || name.length > 255) {
      throw new RangeError(`Domain name must be 1-255 bytes, got ${name.length}`);
    }
    addr = new Uint8Array(1 + name.length);
    addr[0] = name.length;
    addr.set(name, 1);
  } else {
    const ip = target.addressType === TargetType.IPV4 ? parseIPv4(target.host) : parseIPv6(target.host);
    if (ip === null) throw new TypeError(`Host "${target.host}" is not a literal of its address type`);
    addr = ip;
  }
  const out = new Uint8Array(1 + addr.length + 2);
  out[0] = target.addressType;
  out.set(addr, 1);
  out[out.length - 2] = target.port >> 8;
  out[out.length - 1] = target.port & 0xff;
  return out;
}

const UNSPECIFIED: ProxyTarget = { addressType: TargetType.IPV4, host: '0.0.0.0', port: 0 };

/**
 * Encodes a request reply: VER 5, REP, RSV 0, then BND.ADDR/BND.PORT (RFC 1928 section 6).
 * `bound` defaults to 0.0.0.0:0, which is what a CONNECT through a tunnel can truthfully say;
 * UDP ASSOCIATE must pass the relay's real address.
 */
export function encodeSocks5Reply(reply: number, bound: ProxyTarget = UNSPECIFIED): Uint8Array {
  const addr = encodeSocks5Address(bound);
  const out = new Uint8Array(3 + addr.length);
  out[0] = 0x05;
  out[1] = reply;
  out[2] = 0x00;
  out.set(addr, 3);
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Creates the handshake parser for one app connection. */
export function createSocks5Parser(options: Socks5Options = {}): Socks5Parser {
  const users = options.users ?? [];
  const udp = options.udp ?? false;
  let state: Socks5State = 'greeting';
  let buf: Uint8Array = new Uint8Array(0);
  let user: string | null = null;

  const fail = (code: ErrorCodeValue, message: string, reply: Uint8Array | null): Socks5Event => {
    state = 'failed';
    buf = new Uint8Array(0);
    return { type: 'error', code, message, reply };
  };
  const requestFail = (code: ErrorCodeValue, rep: number, message: string) =>
    fail(code, message, encodeSocks5Reply(rep));

  // Each step consumes one complete message from `buf` and returns its event, or null if
  // the message is still incomplete.
  const greeting = (): Socks5Event | null => {
    if (buf.length < 2) return null;
    if (buf[0] !== 0x05) return fail(ErrorCode.PROTOCOL, `SOCKS version ${buf[0]} is not 5`, null);
    const n = buf[1] as number;
    if (buf.length < 2 + n) return null;
    const offered = buf.subarray(2, 2 + n);
    buf = buf.subarray(2 + n);
    let method: number = Socks5Method.NO_ACCEPTABLE;
    if (users.length > 0) {
      if (offered.includes(Socks5Method.USER_PASS)) method = Socks5Method.USER_PASS;
    } else if (offered.includes(Socks5Method.NO_AUTH)) {
      method = Socks5Method.NO_AUTH;
    } else if (offered.includes(Socks5Method.USER_PASS)) {
      // No credentials configured: take whatever an app that always sends them offers.
      method = Socks5Method.USER_PASS;
    }
    const data = new Uint8Array([0x05, method]);
    if (method === Socks5Method.NO_ACCEPTABLE) {
      const why = users.length > 0 ? 'username/password (0x02)' : 'no authentication (0x00)';
      return fail(ErrorCode.AUTH_FAILED, `SOCKS5 client offered no acceptable method; expected ${why}`, data);
    }
    state = method === Socks5Method.USER_PASS ? 'auth' : 'request';
    return { type: 'send', data };
  };

  const auth = (): Socks5Event | null => {
    // RFC 1929 section 2: VER 1, ULEN, UNAME, PLEN, PASSWD; reply VER 1, STATUS (0 = ok).
    const failure = new Uint8Array([0x01, 0x01]);
    if (buf.length < 2) return null;
    if (buf[0] !== 0x01) {
      return fail(ErrorCode.PROTOCOL, `SOCKS5 auth version ${buf[0]} is not 1 (RFC 1929)`, failure);
    }
    const ulen = buf[1] as number;
    if (buf.length < 2 + ulen + 1) return null;
    const plen = buf[2 + ulen] as number;
    if (buf.length < 3 + ulen + plen) return null;
    const username = buf.subarray(2, 2 + ulen);
    const password = buf.subarray(3 + ulen, 3 + ulen + plen);
    buf = buf.subarray(3 + ulen + plen);
    if (users.length > 0) {
      user = matchCredentials(users, username, password);
      if (user === null) return fail(ErrorCode.AUTH_FAILED, 'SOCKS5 username or password is wrong', failure);
    }
    state = 'request';
    return { type: 'send', data: new Uint8Array([0x01, 0x00]) };
  };

  const request = (): Socks5Event | null => {
    if (buf.length < 4) return null;
    if (buf[0] !== 0x05) {
      return requestFail(ErrorCode.PROTOCOL, Socks5Reply.GENERAL_FAILURE, `SOCKS version ${buf[0]} is not 5`);
    }
    const cmd = buf[1] as number;
    const supported = cmd === Socks5Command.CONNECT || (cmd === Socks5Command.UDP_ASSOCIATE && udp);
    if (!supported) {
      const name = cmd === Socks5Command.BIND ? 'BIND' : cmd === Socks5Command.UDP_ASSOCIATE ? 'UDP ASSOCIATE' : `${cmd}`;
      return requestFail(ErrorCode.UNSUPPORTED, Socks5Reply.COMMAND_NOT_SUPPORTED, `SOCKS5 command ${name} is not supported`);
    }
    const addr = decodeSocks5Address(buf, 3);
    if (addr.status === 'short') return null;
    if (addr.status === 'bad') {
      const code = addr.reply === Socks5Reply.ADDRESS_TYPE_NOT_SUPPORTED ? ErrorCode.UNSUPPORTED : ErrorCode.BAD_ADDRESS;
      return requestFail(code, addr.reply, addr.message);
    }
    if (cmd === Socks5Command.CONNECT && addr.target.port === 0) {
      return requestFail(ErrorCode.BAD_ADDRESS, Socks5Reply.HOST_UNREACHABLE, 'SOCKS5 CONNECT port must be 1-65535, got 0');
    }
    const rest = buf.slice(addr.next);
    buf = new Uint8Array(0);
    state = 'done';
    const type = cmd === Socks5Command.CONNECT ? 'connect' : 'udp_associate';
    return { type, target: addr.target, user, rest };
  };

  return {
    get state() {
      return state;
    },
    push(chunk: Uint8Array): Socks5Event[] {
      if (state === 'failed') return [];
      if (state === 'done') {
        return [fail(ErrorCode.CLOSED, 'SOCKS5 handshake is over; bytes belong to the stream', null)];
      }
      buf = concat(buf, chunk);
      const events: Socks5Event[] = [];
      for (;;) {
        const step = state === 'greeting' ? greeting : state === 'auth' ? auth : state === 'request' ? request : null;
        if (step === null) break;
        const event = step();
        if (event === null) break;
        events.push(event);
      }
      // Copy out of the app's chunk so the owner may reuse its buffer.
      if (buf.length > 0 && buf.buffer === chunk.buffer) buf = buf.slice();
      return events;
    },
  };
}

/**
 * SOCKS5 UDP relay datagrams (RFC 1928 section 7): RSV u16, FRAG u8, ATYP/ADDR/PORT, DATA.
 * Fragmentation is not supported; a datagram with FRAG != 0 decodes, and the caller drops it
 * as section 7 permits ("an implementation that does not support fragmentation MUST drop any
 * datagram whose FRAG field is other than X'00'").
 */
import { codedError, ErrorCode } from '../../shared/errors.ts';
import { decodeSocks5Address, encodeSocks5Address } from './socks5.ts';
import type { ProxyTarget } from './target.ts';

/** A decoded relay datagram. `payload` is a view into the input. */
export type Socks5Datagram = {
  readonly frag: number;
  readonly target: ProxyTarget;
  readonly payload: Uint8Array;
};

/** Decodes one relay datagram; throws RangeError (TRUNCATED or BAD_ADDRESS) on bad input. */
export function decodeSocks5Datagram(buf: Uint8Array): Socks5Datagram {
  if (buf.length < 4) {
    throw codedError(RangeError, ErrorCode.TRUNCATED, `SOCKS5 UDP datagram of ${buf.length} bytes is shorter than its 4-byte header`);
  }
  const frag = buf[2] as number;
  const addr = decodeSocks5Address(buf, 3);
  if (addr.status === 'short') {
    throw codedError(RangeError, ErrorCode.TRUNCATED, 'SOCKS5 UDP datagram ends inside its address');
  }
  if (addr.status === 'bad') throw codedError(RangeError, ErrorCode.BAD_ADDRESS, addr.message);
  return { frag, target: addr.target, payload: buf.subarray(addr.next) };
}

/** Encodes a relay datagram with FRAG 0, as sent back to the app. */
export function encodeSocks5Datagram(target: ProxyTarget, payload: Uint8Array): Uint8Array {
  const addr = encodeSocks5Address(target);
  const out = new Uint8Array(3 + addr.length + payload.length);
  out.set(addr, 3);
  out.set(payload, 3 + addr.length);
  return out;
}

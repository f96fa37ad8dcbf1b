/**
 * Byte-level building blocks of the raft wire codec: LEB128 varints for non-negative safe
 * integers (protobuf's base-128 varint, which etcd's raftpb uses for the same fields), a
 * growable writer, and a bounds-checked reader. Pure over Uint8Array, no I/O.
 */
import { codedError, ErrorCode } from '../../../shared/errors.ts';

/** A safe integer needs at most 8 groups of 7 bits (2^53 < 2^56). */
export const MAX_VARINT_BYTES = 8;
/** Longest string field (node ids): one length byte. */
export const MAX_STRING_BYTES = 255;

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

function truncated(what: string): Error {
  return codedError(RangeError, ErrorCode.TRUNCATED, `Raft message is truncated inside ${what}`);
}

/** A growable output buffer; `finish()` returns a view of exactly the bytes written. */
export class ByteWriter {
  #buf: Uint8Array;
  #len = 0;

  constructor(initialCapacity = 1024) {
    this.#buf = new Uint8Array(initialCapacity);
  }

  get length(): number {
    return this.#len;
  }

  #reserve(n: number): void {
    const need = this.#len + n;
    if (need <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  u8(v: number): void {
    this.#reserve(1);
    this.#buf[this.#len++] = v;
  }

  /** A non-negative safe integer as LEB128. */
  varint(v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw codedError(RangeError, ErrorCode.BAD_FRAME, `Raft varint must be a non-negative safe integer, got ${v}`);
    }
    this.#reserve(MAX_VARINT_BYTES);
    const buf = this.#buf;
    let len = this.#len;
    // Above 2^31 bit operators would wrap, so peel the high part off arithmetically first.
    while (v > 0x7fffffff) {
      buf[len++] = (v % 128) | 0x80;
      v = Math.floor(v / 128);
    }
    while (v > 0x7f) {
      buf[len++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[len++] = v;
    this.#len = len;
  }

  raw(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    this.#buf.set(bytes, this.#len);
    this.#len += bytes.length;
  }

  /** Length-prefixed bytes (varint length). */
  bytes(bytes: Uint8Array): void {
    this.varint(bytes.length);
    this.raw(bytes);
  }

  /** A short UTF-8 string with a one-byte length. */
  str(s: string): void {
    const b = utf8.encode(s);
    if (b.length > MAX_STRING_BYTES) {
      throw codedError(RangeError, ErrorCode.BAD_FRAME, `Raft string field must be at most ${MAX_STRING_BYTES} bytes, got ${b.length}`);
    }
    this.u8(b.length);
    this.raw(b);
  }

  finish(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }
}

/** Reads fields in order from one buffer; every read checks the bounds. */
export class ByteReader {
  readonly buf: Uint8Array;
  offset: number;
  readonly end: number;

  constructor(buf: Uint8Array, offset = 0, end = buf.length) {
    this.buf = buf;
    this.offset = offset;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.offset;
  }

  u8(what: string): number {
    if (this.offset >= this.end) throw truncated(what);
    return this.buf[this.offset++]!;
  }

  varint(what: string): number {
    const buf = this.buf;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      if (this.offset >= this.end) throw truncated(what);
      const b = buf[this.offset++]!;
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (!Number.isSafeInteger(value)) break;
        return value;
      }
      scale *= 128;
    }
    throw codedError(RangeError, ErrorCode.BAD_FRAME, `Raft ${what} is not a varint of at most ${MAX_VARINT_BYTES} bytes holding a safe integer`);
  }

  /** `n` bytes as a view into the buffer (no copy: the buffer is never reused). */
  take(n: number, what: string): Uint8Array {
    if (n > this.end - this.offset) throw truncated(what);
    const out = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  bytes(what: string): Uint8Array {
    return this.take(this.varint(`${what} length`), what);
  }

  str(what: string): string {
    const raw = this.take(this.u8(`${what} length`), what);
    try {
      return utf8Strict.decode(raw);
    } catch (cause) {
      throw codedError(RangeError, ErrorCode.BAD_FRAME, `Raft ${what} must be valid UTF-8`, cause);
    }
  }
}

/**
 * A small key-value state machine for exercising a raft cluster in tests and benchmarks:
 * put, append and delete on UTF-8 keys with byte values. Commands and snapshots are binary:
 *
 *   command  = u8 op (1 put, 2 append, 3 delete) | u16 keyLength | key | value
 *   snapshot = u32 count | (u16 keyLength | key | u32 valueLength | value)*   (keys sorted)
 */
import { codedError, ErrorCode } from '../../../shared/errors.ts';
import type { RaftStateMachine } from '../driver/options.ts';

/** KV operations. */
export const KvOp = { Put: 1, Append: 2, Delete: 3 } as const;
export type KvOp = (typeof KvOp)[keyof typeof KvOp];

/** Result of applying one command. */
export interface KvResult {
  /** Log index of the entry. */
  index: number;
  ok: boolean;
  /** Length of the value after the operation (0 after a delete), or the error on !ok. */
  size: number;
  error?: string;
}

const MAX_KEY = 0xffff;
const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** Encodes a KV command. */
export function encodeKvCommand(op: KvOp, key: string, value: Uint8Array = new Uint8Array(0)): Uint8Array {
  const k = utf8.encode(key);
  if (k.length === 0 || k.length > MAX_KEY) throw codedError(RangeError, ErrorCode.BAD_COMMAND, `KV key must be 1-${MAX_KEY} bytes, got ${k.length}`);
  const out = new Uint8Array(3 + k.length + value.length);
  out[0] = op;
  out[1] = k.length >> 8;
  out[2] = k.length & 0xff;
  out.set(k, 3);
  out.set(value, 3 + k.length);
  return out;
}

/** Decodes a KV command; undefined when malformed. */
export function decodeKvCommand(data: Uint8Array): { op: KvOp; key: string; value: Uint8Array } | undefined {
  if (data.length < 3) return undefined;
  const op = data[0]!;
  if (op !== KvOp.Put && op !== KvOp.Append && op !== KvOp.Delete) return undefined;
  const klen = (data[1]! << 8) | data[2]!;
  if (klen === 0 || 3 + klen > data.length) return undefined;
  try {
    const key = utf8Strict.decode(data.subarray(3, 3 + klen));
    return { op, key, value: data.subarray(3 + klen) };
  } catch {
    return undefined;
  }
}

/** The KV store; deterministic, never throws from apply. */
export class KvMachine implements RaftStateMachine<KvResult> {
  readonly #data = new Map<string, Uint8Array>();
  /** Restores done (a snapshot from the leader or from disk). */
  restores = 0;

  get size(): number {
    return this.#data.size;
  }

  get(key: string): Uint8Array | undefined {
    return this.#data.get(key);
  }

  /** Keys starting with `prefix`, sorted. */
  keys(prefix = ''): string[] {
    return [...this.#data.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  apply(index: number, data: Uint8Array): KvResult {
    const c = decodeKvCommand(data);
    if (c === undefined) return { index, ok: false, size: 0, error: 'malformed command' };
    if (c.op === KvOp.Delete) {
      this.#data.delete(c.key);
      return { index, ok: true, size: 0 };
    }
    let value = c.value.slice();
    if (c.op === KvOp.Append) {
      const prev = this.#data.get(c.key);
      if (prev !== undefined) {
        value = new Uint8Array(prev.length + c.value.length);
        value.set(prev);
        value.set(c.value, prev.length);
      }
    }
    this.#data.set(c.key, value);
    return { index, ok: true, size: value.length };
  }

  snapshot(): Uint8Array {
    const keys = [...this.#data.keys()].sort();
    const encoded = keys.map((k) => utf8.encode(k));
    let size = 4;
    for (let i = 0; i < keys.length; i++) size += 6 + encoded[i]!.length + this.#data.get(keys[i]!)!.length;
    const out = new Uint8Array(size);
    const v = new DataView(out.buffer);
    v.setUint32(0, keys.length);
    let o = 4;
    for (let i = 0; i < keys.length; i++) {
      const k = encoded[i]!;
      const val = this.#data.get(keys[i]!)!;
      v.setUint16(o, k.length);
      out.set(k, o + 2);
      o += 2 + k.length;
      v.setUint32(o, val.length);
      out.set(val, o + 4);
      o += 4 + val.length;
    }
    return out;
  }

  restore(data: Uint8Array): void {
    const fail = (why: string): never => {
      throw codedError(RangeError, ErrorCode.BAD_SNAPSHOT, `KV snapshot ${why}`);
    };
    if (data.length < 4) fail('is shorter than its header');
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const n = v.getUint32(0);
    const next = new Map<string, Uint8Array>();
    let o = 4;
    for (let i = 0; i < n; i++) {
      if (o + 2 > data.length) fail('is truncated');
      const klen = v.getUint16(o);
      if (o + 2 + klen + 4 > data.length) fail('is truncated');
      const key = utf8Strict.decode(data.subarray(o + 2, o + 2 + klen));
      o += 2 + klen;
      const vlen = v.getUint32(o);
      if (o + 4 + vlen > data.length) fail('is truncated');
      next.set(key, data.slice(o + 4, o + 4 + vlen));
      o += 4 + vlen;
    }
    if (o !== data.length) fail('has trailing bytes');
    this.#data.clear();
    for (const [k, val] of next) this.#data.set(k, val);
    this.restores++;
  }
}

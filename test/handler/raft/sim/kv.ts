/**
 * The simulated state machine: a string key-value store with get/put/append and client
 * sessions (Raft thesis 6.3), so a command that was retried or duplicated by the network takes
 * effect at most once and a retry gets the original answer.
 */

/** A client command carried in a log entry. */
export interface KvCommand {
  client: number;
  seq: number;
  op: 'get' | 'put' | 'append';
  key: string;
  value: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Command bytes for a log entry. */
export function encodeCommand(c: KvCommand): Uint8Array {
  return enc.encode(JSON.stringify([c.client, c.seq, c.op, c.key, c.value]));
}

/** Parses encodeCommand output. */
export function decodeCommand(b: Uint8Array): KvCommand {
  const [client, seq, op, key, value] = JSON.parse(dec.decode(b)) as [number, number, KvCommand['op'], string, string];
  return { client, seq, op, key, value };
}

/** The outcome of applying a command: undefined result for writes and missing keys. */
export interface KvResult {
  /** False when the command was an old, superseded request that was not applied. */
  applied: boolean;
  value: string | undefined;
}

/** Key-value store with at-most-once client sessions. */
export class KvStore {
  private data = new Map<string, string>();
  private sessions = new Map<number, { seq: number; value: string | undefined }>();

  apply(c: KvCommand): KvResult {
    const s = this.sessions.get(c.client);
    if (s !== undefined && c.seq <= s.seq) {
      return c.seq === s.seq ? { applied: true, value: s.value } : { applied: false, value: undefined };
    }
    let value: string | undefined;
    if (c.op === 'get') value = this.data.get(c.key);
    else if (c.op === 'put') this.data.set(c.key, c.value);
    else this.data.set(c.key, (this.data.get(c.key) ?? '') + c.value);
    this.sessions.set(c.client, { seq: c.seq, value });
    return { applied: true, value };
  }

  get(key: string): string | undefined {
    return this.data.get(key);
  }

  /** Deterministic bytes (sorted keys), so equal states give equal snapshots. */
  serialize(): Uint8Array {
    const data = [...this.data].sort((a, b) => (a[0] < b[0] ? -1 : 1));
    const sessions = [...this.sessions].sort((a, b) => a[0] - b[0]).map(([c, s]) => [c, s.seq, s.value ?? null]);
    return enc.encode(JSON.stringify([data, sessions]));
  }

  static restore(bytes: Uint8Array): KvStore {
    const kv = new KvStore();
    if (bytes.length === 0) return kv;
    const [data, sessions] = JSON.parse(dec.decode(bytes)) as [[string, string][], [number, number, string | null][]];
    for (const [k, v] of data) kv.data.set(k, v);
    for (const [c, seq, v] of sessions) kv.sessions.set(c, { seq, value: v ?? undefined });
    return kv;
  }
}

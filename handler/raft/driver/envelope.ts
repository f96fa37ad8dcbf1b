/**
 * What the driver writes into the data of Normal log entries and of snapshots. Entries carry
 * who proposed them (a random per-process tag and a sequence number), so the proposing node
 * resolves its waiting caller when it applies the entry, whichever leader appended it (etcd's
 * request-id wait list). Member URLs are replicated through the log too, so every node learns
 * how to reach a member added at runtime, and snapshots carry them.
 *
 *   entry data = ''                                        no-op (a new leader's first entry)
 *              | u8 1 | tag[8] | varint seq | command         application command
 *              | u8 2 | tag[8] | varint seq | str id | bytes url   member address
 *   snapshot   = u8 version(1) | varint n | (str id | bytes url)* | state machine snapshot
 */
import { codedError, ErrorCode } from '../../../shared/errors.ts';
import { ByteReader, ByteWriter } from '../transport/bytes.ts';
import type { NodeId } from '../types.ts';

/** Bytes of a proposer tag. */
export const TAG_BYTES = 8;

/** Kinds of driver entries. */
export const EntryKind = {
  Command: 1,
  Member: 2,
} as const;

/** A decoded Normal entry. */
export type DecodedEntry =
  | { kind: 'noop' }
  | { kind: 'command'; tag: Uint8Array; seq: number; command: Uint8Array }
  | { kind: 'member'; tag: Uint8Array; seq: number; id: NodeId; url: string }
  | { kind: 'invalid'; error: Error };

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });
const SNAPSHOT_VERSION = 1;

function header(w: ByteWriter, kind: number, tag: Uint8Array, seq: number): void {
  w.u8(kind);
  w.raw(tag);
  w.varint(seq);
}

/** Entry data of an application command. */
export function encodeCommandEntry(tag: Uint8Array, seq: number, command: Uint8Array): Uint8Array {
  // On the hot path of every write: one exact allocation, no intermediate writer.
  let seqBytes = 1;
  for (let v = seq; v >= 128; v = Math.floor(v / 128)) seqBytes++;
  const out = new Uint8Array(1 + TAG_BYTES + seqBytes + command.length);
  out[0] = EntryKind.Command;
  out.set(tag, 1);
  let o = 1 + TAG_BYTES;
  let v = seq;
  for (; v >= 128; v = Math.floor(v / 128)) out[o++] = (v % 128) | 0x80;
  out[o++] = v;
  out.set(command, o);
  return out;
}

/** Entry data announcing a member's URL. */
export function encodeMemberEntry(tag: Uint8Array, seq: number, id: NodeId, url: string): Uint8Array {
  const w = new ByteWriter(64 + url.length * 3);
  header(w, EntryKind.Member, tag, seq);
  w.str(id);
  w.bytes(utf8.encode(url));
  return w.finish();
}

/** Decodes entry data; never throws (a bad entry must be skipped the same way everywhere). */
export function decodeEntry(data: Uint8Array): DecodedEntry {
  if (data.length === 0) return { kind: 'noop' };
  try {
    const r = new ByteReader(data);
    const kind = r.u8('entry kind');
    const tag = r.take(TAG_BYTES, 'proposer tag');
    const seq = r.varint('sequence');
    if (kind === EntryKind.Command) return { kind: 'command', tag, seq, command: data.subarray(r.offset) };
    if (kind === EntryKind.Member) {
      const id = r.str('member id');
      const url = utf8Strict.decode(r.bytes('member url'));
      return { kind: 'member', tag, seq, id, url };
    }
    return { kind: 'invalid', error: codedError(RangeError, ErrorCode.BAD_FRAME, `Raft entry kind ${kind} is unknown`) };
  } catch (err) {
    return { kind: 'invalid', error: err as Error };
  }
}

/** True when two tags are equal. */
export function sameTag(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < TAG_BYTES; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Snapshot data: member URLs, then the state machine's own snapshot bytes. */
export function encodeSnapshotData(members: ReadonlyMap<NodeId, string>, machine: Uint8Array): Uint8Array {
  const w = new ByteWriter(64 + machine.length);
  w.u8(SNAPSHOT_VERSION);
  const ids = [...members.keys()].sort();
  w.varint(ids.length);
  for (const id of ids) {
    w.str(id);
    w.bytes(utf8.encode(members.get(id)!));
  }
  w.raw(machine);
  return w.finish();
}

/** Splits snapshot data; throws BAD_SNAPSHOT when it is not what encodeSnapshotData wrote. */
export function decodeSnapshotData(data: Uint8Array): { members: Map<NodeId, string>; machine: Uint8Array } {
  try {
    const r = new ByteReader(data);
    const version = r.u8('snapshot version');
    if (version !== SNAPSHOT_VERSION) throw new RangeError(`version ${version}, expected ${SNAPSHOT_VERSION}`);
    const n = r.varint('member count');
    if (n > r.remaining) throw new RangeError(`member count ${n} exceeds the data`);
    const members = new Map<NodeId, string>();
    for (let i = 0; i < n; i++) {
      const id = r.str('member id');
      members.set(id, utf8Strict.decode(r.bytes('member url')));
    }
    return { members, machine: data.subarray(r.offset) };
  } catch (cause) {
    throw codedError(RangeError, ErrorCode.BAD_SNAPSHOT, `Raft snapshot data is malformed: ${(cause as Error).message}`, cause);
  }
}

/**
 * The binary encoding of raft peer messages (every field of handler/raft/types.ts Message,
 * entries and snapshot chunks included) and of a batch of them. Varints keep the fixed part of
 * a heartbeat near 10 bytes and of an entry near 5 bytes plus its data. Layout (docs/raft-operations.md):
 *
 *   batch   = u8 version(1) | varint count | message*
 *   message = u8 type | u8 flags(bit0 reject, bit1 snapshot) | str from | str to
 *             | varint term | varint logTerm | varint index | varint commit | varint rejectHint
 *             | bytes context | varint nEntries | entry* | [chunk]
 *   entry   = varint term | varint index | u8 type | bytes data
 *   chunk   = varint index | varint term | ids voters | ids learners | ids votersOutgoing
 *             | varint offset | varint total | bytes data
 *   ids     = varint count | str*          str = u8 length | UTF-8      bytes = varint length | raw
 */
import type { ConfState, Entry, Message, MessageType, SnapshotChunk } from '../types.ts';
import { EntryType } from '../types.ts';
import { codedError, ErrorCode } from '../../../shared/errors.ts';
import { ByteReader, ByteWriter } from './bytes.ts';

/** Version byte of a batch. */
export const BATCH_VERSION = 1;
/** Most messages one batch may carry. */
export const MAX_BATCH_MESSAGES = 65_536;
/** Most entries, and most member ids, one message may carry. */
export const MAX_LIST_ITEMS = 1 << 20;

const FLAG_REJECT = 0x01;
const FLAG_SNAPSHOT = 0x02;
const MAX_MESSAGE_TYPE = 14;
const EMPTY = new Uint8Array(0);

function writeIds(w: ByteWriter, ids: readonly string[]): void {
  w.varint(ids.length);
  for (const id of ids) w.str(id);
}

function readIds(r: ByteReader, what: string): string[] {
  const n = r.varint(`${what} count`);
  if (n > MAX_LIST_ITEMS || n > r.remaining) throw bad(`${what} count ${n} exceeds what the message can hold`);
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = r.str(what);
  return out;
}

function bad(message: string): Error {
  return codedError(RangeError, ErrorCode.BAD_FRAME, `Raft message: ${message}`);
}

/** Bytes a message will take on the wire, at most (used for queue and batch budgets). */
export function messageSizeBound(m: Message): number {
  let n = 64 + m.from.length * 3 + m.to.length * 3 + m.context.length;
  for (const e of m.entries) n += 20 + e.data.length;
  const s = m.snapshot;
  if (s !== null) {
    n += 40 + s.data.length;
    for (const id of [...s.meta.conf.voters, ...s.meta.conf.learners, ...s.meta.conf.votersOutgoing]) n += 1 + id.length * 3;
  }
  return n;
}

/** Appends one message to `w`. Throws BAD_FRAME for a field out of range. */
export function writeMessage(w: ByteWriter, m: Message): void {
  w.u8(m.type);
  w.u8((m.reject ? FLAG_REJECT : 0) | (m.snapshot !== null ? FLAG_SNAPSHOT : 0));
  w.str(m.from);
  w.str(m.to);
  w.varint(m.term);
  w.varint(m.logTerm);
  w.varint(m.index);
  w.varint(m.commit);
  w.varint(m.rejectHint);
  w.bytes(m.context);
  const entries = m.entries;
  w.varint(entries.length);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    w.varint(e.term);
    w.varint(e.index);
    w.u8(e.type);
    w.bytes(e.data);
  }
  const s = m.snapshot;
  if (s !== null) {
    w.varint(s.meta.index);
    w.varint(s.meta.term);
    writeIds(w, s.meta.conf.voters);
    writeIds(w, s.meta.conf.learners);
    writeIds(w, s.meta.conf.votersOutgoing);
    w.varint(s.offset);
    w.varint(s.total);
    w.bytes(s.data);
  }
}

/** Reads one message; byte fields are views into the reader's buffer. */
export function readMessage(r: ByteReader): Message {
  const type = r.u8('message type');
  if (type < 1 || type > MAX_MESSAGE_TYPE) throw bad(`type must be 1-${MAX_MESSAGE_TYPE}, got ${type}`);
  const flags = r.u8('flags');
  if ((flags & ~(FLAG_REJECT | FLAG_SNAPSHOT)) !== 0) throw bad(`unknown flag bits 0x${flags.toString(16)}`);
  const from = r.str('from');
  const to = r.str('to');
  const term = r.varint('term');
  const logTerm = r.varint('logTerm');
  const index = r.varint('index');
  const commit = r.varint('commit');
  const rejectHint = r.varint('rejectHint');
  const context = r.bytes('context');
  const n = r.varint('entry count');
  // Each entry takes at least 4 bytes, which bounds the allocation by the input's size.
  if (n > MAX_LIST_ITEMS || n * 4 > r.remaining) throw bad(`entry count ${n} exceeds what the message can hold`);
  const entries = new Array<Entry>(n);
  for (let i = 0; i < n; i++) {
    const eTerm = r.varint('entry term');
    const eIndex = r.varint('entry index');
    const eType = r.u8('entry type');
    if (eType !== EntryType.Normal && eType !== EntryType.ConfChange) throw bad(`entry type must be 0 or 1, got ${eType}`);
    const data = r.bytes('entry data');
    entries[i] = { term: eTerm, index: eIndex, type: eType, data };
  }
  let snapshot: SnapshotChunk | null = null;
  if ((flags & FLAG_SNAPSHOT) !== 0) {
    const sIndex = r.varint('snapshot index');
    const sTerm = r.varint('snapshot term');
    const conf: ConfState = {
      voters: readIds(r, 'voters'),
      learners: readIds(r, 'learners'),
      votersOutgoing: readIds(r, 'votersOutgoing'),
    };
    const offset = r.varint('chunk offset');
    const total = r.varint('chunk total');
    const data = r.bytes('chunk data');
    if (offset + data.length > total) throw bad(`snapshot chunk ends at ${offset + data.length}, past its total ${total}`);
    snapshot = { meta: { index: sIndex, term: sTerm, conf }, offset, total, data };
  }
  return {
    type: type as MessageType,
    from,
    to,
    term,
    logTerm,
    index,
    commit,
    entries,
    reject: (flags & FLAG_REJECT) !== 0,
    rejectHint,
    context: context.length === 0 ? EMPTY : context,
    snapshot,
  };
}

/** Encodes messages as one batch. */
export function encodeBatch(messages: readonly Message[]): Uint8Array {
  if (messages.length > MAX_BATCH_MESSAGES) throw bad(`a batch holds at most ${MAX_BATCH_MESSAGES} messages, got ${messages.length}`);
  let size = 8;
  for (const m of messages) size += messageSizeBound(m);
  const w = new ByteWriter(size);
  w.u8(BATCH_VERSION);
  w.varint(messages.length);
  for (const m of messages) writeMessage(w, m);
  return w.finish();
}

/** Decodes a batch; throws BAD_FRAME or TRUNCATED for anything but exactly one valid batch. */
export function decodeBatch(buf: Uint8Array): Message[] {
  const r = new ByteReader(buf);
  const version = r.u8('batch version');
  if (version !== BATCH_VERSION) throw bad(`batch version must be ${BATCH_VERSION}, got ${version}`);
  const n = r.varint('message count');
  // The smallest message takes 12 bytes, which bounds the allocation by the input's size.
  if (n > MAX_BATCH_MESSAGES || n * 12 > r.remaining) throw bad(`message count ${n} exceeds what the batch can hold`);
  const out = new Array<Message>(n);
  for (let i = 0; i < n; i++) out[i] = readMessage(r);
  if (r.remaining !== 0) throw bad(`${r.remaining} bytes follow the last message of the batch`);
  return out;
}

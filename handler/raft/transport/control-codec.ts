/**
 * Cluster-control requests a follower forwards to the leader (membership changes and
 * leadership transfer must be proposed by the leader; ARCHITECTURE 4: "admin writes on a
 * follower are forwarded to the leader"), and the leader's answers. Carried as payloads of
 * kind ControlRequest / ControlResponse on the raft link.
 *
 *   request  = varint id | u8 op | str node | bytes url (UTF-8) | varint timeoutMs
 *   response = varint id | u8 ok | str errorCode | bytes message (UTF-8)
 */
import { codedError, ErrorCode } from '../../../shared/errors.ts';
import { ByteReader, ByteWriter } from './bytes.ts';

/** Control operations. */
export const ControlOp = {
  AddMember: 1,
  AddLearner: 2,
  PromoteLearner: 3,
  RemoveMember: 4,
  TransferLeadership: 5,
} as const;
export type ControlOp = (typeof ControlOp)[keyof typeof ControlOp];

/** A forwarded control request. `node` is '' for a transfer to the best voter. */
export interface ControlRequest {
  id: number;
  op: ControlOp;
  node: string;
  url: string;
  /** Time the requester still waits, so the leader stops trying when nobody listens. */
  timeoutMs: number;
}

/** The leader's answer: ok, or the coded error it failed with. */
export interface ControlResponse {
  id: number;
  ok: boolean;
  errorCode: string;
  message: string;
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });
const MAX_TEXT = 4096;

function text(r: ByteReader, what: string): string {
  const raw = r.bytes(what);
  if (raw.length > MAX_TEXT) throw codedError(RangeError, ErrorCode.BAD_FRAME, `Control ${what} exceeds ${MAX_TEXT} bytes`);
  try {
    return utf8Strict.decode(raw);
  } catch (cause) {
    throw codedError(RangeError, ErrorCode.BAD_FRAME, `Control ${what} must be valid UTF-8`, cause);
  }
}

function done(r: ByteReader, what: string): void {
  if (r.remaining !== 0) throw codedError(RangeError, ErrorCode.BAD_FRAME, `${r.remaining} bytes follow the control ${what}`);
}

/** Encodes a control request. */
export function encodeControlRequest(q: ControlRequest): Uint8Array {
  const w = new ByteWriter(64 + q.url.length * 3);
  w.varint(q.id);
  w.u8(q.op);
  w.str(q.node);
  w.bytes(utf8.encode(q.url.slice(0, MAX_TEXT)));
  w.varint(Math.max(0, Math.floor(q.timeoutMs)));
  return w.finish();
}

/** Decodes a control request; throws BAD_FRAME or TRUNCATED. */
export function decodeControlRequest(buf: Uint8Array): ControlRequest {
  const r = new ByteReader(buf);
  const id = r.varint('request id');
  const op = r.u8('op');
  if (op < ControlOp.AddMember || op > ControlOp.TransferLeadership) {
    throw codedError(RangeError, ErrorCode.BAD_FRAME, `Control op must be 1-5, got ${op}`);
  }
  const node = r.str('node');
  const url = text(r, 'url');
  const timeoutMs = r.varint('timeout');
  done(r, 'request');
  return { id, op: op as ControlOp, node, url, timeoutMs };
}

/** Encodes a control response. */
export function encodeControlResponse(p: ControlResponse): Uint8Array {
  const w = new ByteWriter(64 + p.message.length * 3);
  w.varint(p.id);
  w.u8(p.ok ? 1 : 0);
  w.str(p.errorCode.slice(0, 100));
  w.bytes(utf8.encode(p.message.slice(0, MAX_TEXT / 4)));
  return w.finish();
}

/** Decodes a control response; throws BAD_FRAME or TRUNCATED. */
export function decodeControlResponse(buf: Uint8Array): ControlResponse {
  const r = new ByteReader(buf);
  const id = r.varint('response id');
  const ok = r.u8('ok');
  if (ok > 1) throw codedError(RangeError, ErrorCode.BAD_FRAME, `Control ok flag must be 0 or 1, got ${ok}`);
  const errorCode = r.str('error code');
  const message = text(r, 'message');
  done(r, 'response');
  return { id, ok: ok === 1, errorCode, message };
}

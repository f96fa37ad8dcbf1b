/**
 * Membership: the ConfChange codec carried in EntryType.ConfChange entries, applying one change
 * to a ConfState, and majority arithmetic over voters (learners never count: Raft thesis 4.2.1).
 * Changes take effect when applied (etcd-io/raft confchange); safety of one-at-a-time changes
 * comes from the leader's checks in propose (one pending change, current-term entry committed).
 */
import type { ConfChange, ConfState, NodeId } from '../types.ts';
import { ConfChangeType } from '../types.ts';
import { codedError, ErrorCode } from '../../../shared/errors.ts';

const CONF_CHANGE_VERSION = 1;
const MAX_NODE_ID_BYTES = 255;
const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** Encodes a ConfChange as [version u8][type u8][node id utf-8]. */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  const id = utf8Encoder.encode(cc.node);
  if (id.length === 0 || id.length > MAX_NODE_ID_BYTES) {
    throw codedError(RangeError, ErrorCode.BAD_FRAME, `Conf change node id must be 1 to ${MAX_NODE_ID_BYTES} bytes, got ${id.length}`);
  }
  const out = new Uint8Array(2 + id.length);
  out[0] = CONF_CHANGE_VERSION;
  out[1] = cc.type;
  out.set(id, 2);
  return out;
}

/** Decodes what encodeConfChange wrote; throws BAD_FRAME on anything else. */
export function decodeConfChange(buf: Uint8Array): ConfChange {
  if (buf.length < 3 || buf.length > 2 + MAX_NODE_ID_BYTES) {
    throw codedError(RangeError, ErrorCode.BAD_FRAME, `Conf change must be 3 to ${2 + MAX_NODE_ID_BYTES} bytes, got ${buf.length}`);
  }
  if (buf[0] !== CONF_CHANGE_VERSION) {
    throw codedError(RangeError, ErrorCode.BAD_FRAME, `Conf change version must be ${CONF_CHANGE_VERSION}, got ${buf[0]}`);
  }
  const type = buf[1]!;
  if (type !== ConfChangeType.AddNode && type !== ConfChangeType.AddLearner && type !== ConfChangeType.RemoveNode) {
    throw codedError(RangeError, ErrorCode.BAD_FRAME, `Conf change type must be 0, 1 or 2, got ${type}`);
  }
  let node: string;
  try {
    node = utf8Decoder.decode(buf.subarray(2));
  } catch (cause) {
    throw codedError(RangeError, ErrorCode.BAD_FRAME, 'Conf change node id must be valid UTF-8', cause);
  }
  return { type, node };
}

/** A fresh copy, so callers never share arrays with the core. */
export function cloneConfState(cs: ConfState): ConfState {
  return { voters: cs.voters.slice(), learners: cs.learners.slice(), votersOutgoing: cs.votersOutgoing.slice() };
}

/** The configuration after one change; unchanged for no-op changes (idempotent on replay). */
export function applyConfChange(cs: ConfState, cc: ConfChange): ConfState {
  const voters = cs.voters.filter((v) => v !== cc.node);
  const learners = cs.learners.filter((l) => l !== cc.node);
  if (cc.type === ConfChangeType.AddNode) voters.push(cc.node);
  else if (cc.type === ConfChangeType.AddLearner) learners.push(cc.node);
  return { voters, learners, votersOutgoing: [] };
}

/** The smallest number of voters that forms a majority. */
export function quorumSize(voters: readonly NodeId[]): number {
  return (voters.length >> 1) + 1;
}

/**
 * The highest index replicated on a majority of voters, given each voter's match index
 * (etcd quorum/majority.go CommittedIndex). Infinity for an empty voter set.
 */
export function majorityIndex(voters: readonly NodeId[], matchOf: (id: NodeId) => number): number {
  const n = voters.length;
  if (n === 0) return Infinity;
  const matches = new Array<number>(n);
  for (let i = 0; i < n; i++) matches[i] = matchOf(voters[i]!);
  matches.sort((a, b) => b - a);
  return matches[quorumSize(voters) - 1]!;
}

/** Outcome of counting votes. */
export const VoteResult = { Pending: 0, Won: 1, Lost: 2 } as const;
export type VoteResult = (typeof VoteResult)[keyof typeof VoteResult];

/** Counts granted and rejected votes among voters only. */
export function voteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  let granted = 0;
  let rejected = 0;
  for (const v of voters) {
    const vote = votes.get(v);
    if (vote === true) granted++;
    else if (vote === false) rejected++;
  }
  const q = quorumSize(voters);
  if (granted >= q) return VoteResult.Won;
  if (voters.length - rejected < q) return VoteResult.Lost;
  return VoteResult.Pending;
}

/** Message construction helpers shared by the core (one flat, monomorphic shape per message). */
import type { Message, MessageType, NodeId } from '../types.ts';

/** A shared empty byte string (never written to). */
export const EMPTY: Uint8Array = new Uint8Array(0);

/** Vote context marking an election started by TimeoutNow, which bypasses leader leases (etcd campaignTransfer). */
export const TRANSFER_CONTEXT: Uint8Array = new TextEncoder().encode('transfer');

/** True when a vote request came from a leadership transfer. */
export function isTransferContext(context: Uint8Array): boolean {
  if (context.length !== TRANSFER_CONTEXT.length) return false;
  for (let i = 0; i < context.length; i++) if (context[i] !== TRANSFER_CONTEXT[i]) return false;
  return true;
}

/** A message with every field at its neutral value. */
export function newMessage(type: MessageType, from: NodeId, to: NodeId, term: number): Message {
  return {
    type,
    from,
    to,
    term,
    logTerm: 0,
    index: 0,
    commit: 0,
    entries: [],
    reject: false,
    rejectHint: 0,
    context: EMPTY,
    snapshot: null,
  };
}

/**
 * Authentication of raft links between handlers (ARCHITECTURE 4: "WebSocket between handlers,
 * authenticated with the cluster key"). Noise KK where both static keys are the cluster key:
 * every handler holds it, so proving it proves cluster membership; the hello's nodeId says
 * which member is calling. The distinct prologue binds the handshake to this use, so a raft
 * handshake can never complete against an exit link listener or a client session endpoint
 * (Noise spec section 6: both sides must agree on the prologue).
 */
import { initiate, respond, type AcceptOutcome, type ChannelEstablished, type HelloTemplate } from '../../../shared/channel/handshake.ts';
import type { ReplayGuard } from '../../../shared/crypto/replay-guard.ts';
import { createLinkInitiator, createLinkResponder } from '../../../shared/crypto/session.ts';
import type { StaticKey } from '../../../shared/crypto/static-key.ts';
import { codedError, ErrorCode } from '../../../shared/errors.ts';
import { MAX_FRAME_LENGTH } from '../../../shared/protocol/constants.ts';
import { PaddingPolicy, Role } from '../../../shared/protocol/hello.ts';
import type { WsConnection } from '../../../shared/runtime/websocket.ts';
import type { NodeId } from '../types.ts';

/** Prologue of raft link handshakes. */
export const RAFT_PROLOGUE: Uint8Array = new TextEncoder().encode('apfsds-raft-v1');

/** Our hello on a raft link: a handler naming itself; the mux fields are unused here. */
export function raftHello(nodeId: NodeId): HelloTemplate {
  return {
    role: Role.HANDLER,
    paddingPolicy: PaddingPolicy.NONE,
    capabilities: 0,
    maxFrameLength: MAX_FRAME_LENGTH,
    streamWindow: 0,
    sessionWindow: 0,
    maxStreams: 0,
    nodeId,
    region: '',
  };
}

/** Options of the initiating side. */
export interface RaftLinkDialOptions {
  staticKey: StaticKey;
  nodeId: NodeId;
  /** The member we meant to reach; a peer naming itself otherwise is refused. */
  expectPeer: NodeId;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Runs the KK initiator on an open socket. Rejects with HANDSHAKE, TIMEOUT, ABORTED or CLOSED. */
export async function initiateRaftLink(ws: WsConnection, o: RaftLinkDialOptions): Promise<ChannelEstablished> {
  const state = createLinkInitiator({ staticKey: o.staticKey, remoteStatic: o.staticKey.publicKey, prologue: RAFT_PROLOGUE });
  const est = await initiate(ws, state, raftHello(o.nodeId), Role.HANDLER, {
    timeoutMs: o.timeoutMs,
    ...(o.signal === undefined ? {} : { signal: o.signal }),
  });
  if (est.remoteHello.nodeId !== o.expectPeer) {
    est.channel.terminate();
    throw codedError(Error, ErrorCode.HANDSHAKE, `Raft peer calls itself "${est.remoteHello.nodeId}", expected "${o.expectPeer}"`);
  }
  return est;
}

/** Options of the responding side. */
export interface RaftLinkAcceptOptions {
  staticKey: StaticKey;
  nodeId: NodeId;
  replayGuard: ReplayGuard;
  timeoutMs: number;
}

/**
 * Runs the KK responder. Resolves with the caller's node id, or a refusal having sent nothing
 * (wrong key, wrong prologue, a replay, or a caller without a node id or claiming ours).
 */
export function acceptRaftLink(ws: WsConnection, o: RaftLinkAcceptOptions): Promise<AcceptOutcome<NodeId>> {
  const state = createLinkResponder({ staticKey: o.staticKey, remoteStatic: o.staticKey.publicKey, prologue: RAFT_PROLOGUE });
  return respond<NodeId>(ws, {
    states: [state],
    expectRole: Role.HANDLER,
    hello: raftHello(o.nodeId),
    replayGuard: o.replayGuard,
    timeoutMs: o.timeoutMs,
    authorize: (_key, hello) => (hello.nodeId === '' || hello.nodeId === o.nodeId ? false : hello.nodeId),
  });
}

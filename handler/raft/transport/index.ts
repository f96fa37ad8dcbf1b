/** The raft peer transport: WebSocket links authenticated with the cluster key, binary codec. */
export { RaftTransport, type RaftTransportOptions, type RaftListenOptions } from './transport.ts';
export { DEFAULT_TRANSPORT_LIMITS, resolveTransportLimits, type TransportLimits, type TransportStats } from './limits.ts';
export { encodeBatch, decodeBatch, messageSizeBound } from './codec.ts';
export { fragmentPayload, framePayload, FrameAssembler, PayloadKind, MAX_FRAGMENT_BODY } from './frames.ts';
export { RAFT_PROLOGUE, raftHello, initiateRaftLink, acceptRaftLink } from './handshake.ts';
export {
  ControlOp,
  encodeControlRequest,
  decodeControlRequest,
  encodeControlResponse,
  decodeControlResponse,
  type ControlRequest,
  type ControlResponse,
} from './control-codec.ts';
export { PeerLink, type RaftDialer, type PeerLinkState } from './peer-link.ts';
export { silentLogger, errorFields, type RaftLogger } from './logger.ts';

/**
 * The handler's Raft control plane (ARCHITECTURE 4): start a node with startRaftNode (any
 * state machine) or startRaftStateStore (handler/state's machine as a StateStore); the node
 * implements the admin API's ClusterStatusProvider and ClusterControl. docs/raft-operations.md.
 */
export * from './driver/index.ts';
export { RaftTransport, type RaftTransportOptions, type RaftListenOptions, type TransportLimits, type TransportStats, type RaftLogger } from './transport/index.ts';
export type { NodeId, Role } from './types.ts';

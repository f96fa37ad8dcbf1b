/** The raft node driver: core + WAL + transport + apply loop, and the Raft-backed StateStore. */
export { RaftNode, startRaftNode, type LeadershipListener } from './node.ts';
export { notLeaderError } from './not-leader.ts';
export {
  resolveNodeOptions,
  type RaftNodeOptions,
  type RaftStateMachine,
  type RaftPeer,
  type RaftCoreTuning,
  type ResolvedNodeTimings,
} from './options.ts';
export { clusterStatus, updateRaftMetrics, type RaftNodeStats } from './status.ts';
export { RaftStateStore, startRaftStateStore, type RaftStateStoreOptions } from './state-store.ts';
export { bestTransferee } from './control.ts';

/** The raft node driver: core + WAL + transport + apply loop, and the Raft-backed StateStore. */
export { RaftNode, startRaftNode, notLeaderError, type LeadershipListener } from './node.ts';
export {
  resolveNodeOptions,
  type RaftNodeOptions,
  type RaftStateMachine,
  type RaftPeer,
  type RaftCoreTuning,
  type ResolvedNodeTimings,
} from './options.ts';
export { clusterStatus, type RaftNodeStats } from './status.ts';
export { RaftStateStore, startRaftStateStore, type RaftStateStoreOptions } from './state-store.ts';
export { bestTransferee } from './control.ts';

/** What a raft node reports: the admin API's ClusterStatus and the operator-facing stats. */
import type { ClusterMember, ClusterStatus } from '../../api/types.ts';
import type { RaftStatus } from '../core/index.ts';
import type { StorageStats } from '../storage/index.ts';
import type { TransportStats } from '../transport/limits.ts';
import type { RaftMetrics } from '../../../shared/metrics/catalog.ts';
import type { HardState, NodeId, SoftState } from '../types.ts';
import { Role } from '../types.ts';

/** Counters and positions of one node (docs/raft-operations.md explains each). */
export interface RaftNodeStats {
  id: NodeId;
  role: Role;
  term: number;
  /** The known leader, or null. */
  leader: NodeId | null;
  commitIndex: number;
  appliedIndex: number;
  /** First and last index of the log held in memory. */
  firstIndex: number;
  lastIndex: number;
  /** Index of the newest snapshot (taken or installed). */
  snapshotIndex: number;
  snapshotsTaken: number;
  /** Snapshots received from a leader and installed (the catch-up path of a lagging node). */
  snapshotsInstalled: number;
  leaderChanges: number;
  /** Ready batches processed (each at most one fsync). */
  readies: number;
  /** Entries applied to the state machine since start. */
  entriesApplied: number;
  proposalsPending: number;
  /** Proposals held while no (reachable) leader is known. */
  proposalsParked: number;
  /** Proposals proposed again after they were certainly lost (dropped unsent, or overwritten). */
  proposalsResubmitted: number;
  readsPending: number;
  /** Why the node stopped, or null while it runs. */
  failed: string | null;
  storage: StorageStats;
  transport: TransportStats;
}

/** The ClusterStatus of handler/api from the core's status and the member URLs. */
export function clusterStatus(st: RaftStatus, applied: number, urlOf: (id: NodeId) => string | undefined): ClusterStatus {
  const member = (id: NodeId, suffrage: 'voter' | 'learner'): ClusterMember => {
    const pr = st.progress?.get(id);
    return {
      id,
      url: urlOf(id) ?? null,
      suffrage,
      matchIndex: pr === undefined ? null : pr.match,
      active: pr === undefined ? null : id === st.id ? true : pr.recentActive,
    };
  };
  return {
    nodeId: st.id,
    role: st.role,
    term: st.term,
    leader: st.lead === '' ? null : st.lead,
    commitIndex: st.commit,
    appliedIndex: applied,
    members: [...st.conf.voters.map((v) => member(v, 'voter')), ...st.conf.learners.map((l) => member(l, 'learner'))],
  };
}

/** Sets the raft gauges after a Ready (the leader-changes counter is counted where changes are seen). */
export function updateRaftMetrics(m: RaftMetrics, hs: HardState | null, applied: number, soft: SoftState): void {
  if (hs !== null) {
    m.term.set(hs.term);
    m.commitIndex.set(hs.commit);
  }
  m.appliedIndex.set(applied);
  m.isLeader.set(soft.role === Role.Leader ? 1 : 0);
  m.hasLeader.set(soft.lead === '' ? 0 : 1);
}

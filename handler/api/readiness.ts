/**
 * Readiness of a handler from its cluster status: it can serve when Raft knows a leader and
 * this node has applied the committed state (within a small lag, so /ready does not flap
 * under a burst of writes while the apply loop catches up).
 */
import type { ClusterStatus, Readiness } from './types.ts';

/** Options of raftReadiness. */
export type RaftReadinessOptions = {
  /** Committed-but-unapplied entries tolerated; default 1000. */
  readonly maxApplyLag?: number;
};

/** Decides readiness from one status. */
export function readinessOf(status: ClusterStatus, options: RaftReadinessOptions = {}): Readiness {
  const maxLag = options.maxApplyLag ?? 1000;
  if (status.leader === null) return { ready: false, reason: 'no raft leader' };
  const lag = status.commitIndex - status.appliedIndex;
  if (lag > maxLag) return { ready: false, reason: `state not applied: ${lag} committed entries behind` };
  return { ready: true };
}

/** A readiness function for the API over a cluster status source. */
export function raftReadiness(
  status: () => ClusterStatus | Promise<ClusterStatus>,
  options: RaftReadinessOptions = {},
): () => Promise<Readiness> {
  return async () => readinessOf(await status(), options);
}

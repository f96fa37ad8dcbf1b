/**
 * Configuration of the Raft core. Everything time-like is counted in ticks: the driver calls
 * tick() on its own clock, so the core never reads one.
 */
import type { NodeId } from '../types.ts';
import { codedError, ErrorCode } from '../../../shared/errors.ts';

/** Options accepted by the RaftCore constructor; all but `id` and `random` have defaults. */
export interface RaftConfig {
  /** This node's id. */
  id: NodeId;
  /** Uniform float in [0, 1): the injected, seeded source for randomized election timeouts. */
  random: () => number;
  /** Ticks without a leader before campaigning; randomized in [electionTick, 2*electionTick). Default 10. */
  electionTick?: number;
  /** Ticks between leader heartbeats; must be less than electionTick. Default 1. */
  heartbeatTick?: number;
  /** Pre-vote phase before real elections (Raft thesis 9.6). Default true. */
  preVote?: boolean;
  /** Leader steps down without a quorum of recent contact; followers keep a leader lease. Default true. */
  checkQuorum?: boolean;
  /** Byte budget of entries in one AppendEntries (at least one entry is always sent). Default 1 MiB. */
  maxSizePerMsg?: number;
  /** AppendEntries messages in flight per follower in Replicate state. Default 256. */
  maxInflightMsgs?: number;
  /** Bytes of uncommitted proposals the leader accepts before dropping new ones; 0 = no limit. Default 64 MiB. */
  maxUncommittedBytes?: number;
  /** Byte budget of committed entries per Ready (at least one). Default 16 MiB. */
  maxCommittedBytesPerReady?: number;
  /** Snapshot bytes per InstallSnapshot chunk. Default 256 KiB. */
  snapshotChunkBytes?: number;
  /** Snapshot chunks in flight per follower. Default 4. */
  maxInflightSnapshotChunks?: number;
  /** Largest snapshot a follower will reassemble. Default 1 GiB. */
  maxSnapshotBytes?: number;
  /** Reads queued while the leader has not committed in its term. Default 4096. */
  maxPendingReads?: number;
  /** Followers forward propose() to the leader instead of throwing NOT_LEADER. Default true. */
  forwardProposals?: boolean;
  /** Entries kept in memory below a new snapshot so slow followers avoid a snapshot. Default 1000. */
  compactionMargin?: number;
  /** Voters of a brand-new cluster; used only when the stored state is empty. */
  initialVoters?: NodeId[];
  /** Learners of a brand-new cluster; used only when the stored state is empty. */
  initialLearners?: NodeId[];
}

/** RaftConfig with every default filled in. */
export type ResolvedRaftConfig = Required<RaftConfig>;

const positiveInt = (name: string, v: number, min = 1): number => {
  if (!Number.isSafeInteger(v) || v < min) {
    throw codedError(RangeError, ErrorCode.BAD_CONFIG, `Raft config ${name} must be an integer >= ${min}, got ${v}`);
  }
  return v;
};

/** Fills defaults and validates; throws BAD_CONFIG naming the offending field. */
export function resolveRaftConfig(c: RaftConfig): ResolvedRaftConfig {
  if (typeof c.id !== 'string' || c.id.length === 0) {
    throw codedError(TypeError, ErrorCode.BAD_CONFIG, 'Raft config id must be a non-empty string');
  }
  if (typeof c.random !== 'function') {
    throw codedError(TypeError, ErrorCode.BAD_CONFIG, 'Raft config random must be a function returning [0, 1)');
  }
  const r: ResolvedRaftConfig = {
    id: c.id,
    random: c.random,
    electionTick: positiveInt('electionTick', c.electionTick ?? 10),
    heartbeatTick: positiveInt('heartbeatTick', c.heartbeatTick ?? 1),
    preVote: c.preVote ?? true,
    checkQuorum: c.checkQuorum ?? true,
    maxSizePerMsg: positiveInt('maxSizePerMsg', c.maxSizePerMsg ?? 1 << 20),
    maxInflightMsgs: positiveInt('maxInflightMsgs', c.maxInflightMsgs ?? 256),
    maxUncommittedBytes: positiveInt('maxUncommittedBytes', c.maxUncommittedBytes ?? 64 << 20, 0),
    maxCommittedBytesPerReady: positiveInt('maxCommittedBytesPerReady', c.maxCommittedBytesPerReady ?? 16 << 20),
    snapshotChunkBytes: positiveInt('snapshotChunkBytes', c.snapshotChunkBytes ?? 256 << 10),
    maxInflightSnapshotChunks: positiveInt('maxInflightSnapshotChunks', c.maxInflightSnapshotChunks ?? 4),
    maxSnapshotBytes: positiveInt('maxSnapshotBytes', c.maxSnapshotBytes ?? 1 << 30),
    maxPendingReads: positiveInt('maxPendingReads', c.maxPendingReads ?? 4096),
    forwardProposals: c.forwardProposals ?? true,
    compactionMargin: positiveInt('compactionMargin', c.compactionMargin ?? 1000, 0),
    initialVoters: c.initialVoters ?? [],
    initialLearners: c.initialLearners ?? [],
  };
  if (r.heartbeatTick >= r.electionTick) {
    throw codedError(RangeError, ErrorCode.BAD_CONFIG, `Raft config heartbeatTick (${r.heartbeatTick}) must be less than electionTick (${r.electionTick})`);
  }
  return r;
}

/**
 * Raft data types shared by the pure core (handler/raft/core), the storage driver
 * (handler/raft/storage) and the peer transport. Shapes follow etcd-io/raft's raftpb.
 */

/** A member's id: a short stable string such as "h1". */
export type NodeId = string;

/** Kinds of log entries. */
export const EntryType = {
  /** An application command (or an empty entry a new leader appends, with empty data). */
  Normal: 0,
  /** A membership change; `data` is an encoded ConfChange. */
  ConfChange: 1,
} as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

/** One log entry. */
export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

/** What must be on disk before any message that depends on it is sent (Raft fig. 2). */
export interface HardState {
  term: number;
  /** The candidate voted for in `term`, or "" for none. */
  vote: NodeId;
  commit: number;
}

/** Cluster membership as of some log index. */
export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
  /** Voters of the outgoing configuration while a joint configuration is in force. */
  votersOutgoing: NodeId[];
}

/** Identifies the state a snapshot captures. */
export interface SnapshotMeta {
  index: number;
  term: number;
  conf: ConfState;
}

/** A state-machine snapshot: everything up to and including `meta.index`. */
export interface Snapshot {
  meta: SnapshotMeta;
  data: Uint8Array;
}

export const emptyHardState = (): HardState => ({ term: 0, vote: '', commit: 0 });

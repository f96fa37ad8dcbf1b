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

/** Kinds of membership change, applied one server at a time (Raft thesis 4.1). */
export const ConfChangeType = {
  /** Add a voter, or promote a learner to voter. */
  AddNode: 0,
  /** Add a learner (non-voting member), or demote a voter to learner. */
  AddLearner: 1,
  /** Remove a voter or learner. */
  RemoveNode: 2,
} as const;
export type ConfChangeType = (typeof ConfChangeType)[keyof typeof ConfChangeType];

/** One membership change; encoded into the `data` of an EntryType.ConfChange entry. */
export interface ConfChange {
  type: ConfChangeType;
  node: NodeId;
}

/** Kinds of peer messages (etcd raftpb.MessageType, minus the local-only ones). */
export const MessageType = {
  /** AppendEntries: `index`/`logTerm` name the entry before `entries`; `commit` is the leader's. */
  Append: 1,
  /** Reply to Append: `index` is the last matching index, or on reject the rejected `index` with a hint. */
  AppendResp: 2,
  /** RequestVote: `index`/`logTerm` are the candidate's last entry; `context` "transfer" on TimeoutNow. */
  Vote: 3,
  VoteResp: 4,
  /** Pre-vote (Raft thesis 9.6): carries the term the sender would campaign in, changes no state. */
  PreVote: 5,
  PreVoteResp: 6,
  /** Leader liveness plus commit (`commit` is min(match, committed)); `context` confirms ReadIndex. */
  Heartbeat: 7,
  HeartbeatResp: 8,
  /** One chunk of an InstallSnapshot transfer (`snapshot` holds it). */
  Snapshot: 9,
  /** Chunk acknowledgement: `index` is the snapshot index, `rejectHint` the next offset wanted. */
  SnapshotResp: 10,
  /** Leadership transfer: the receiver campaigns at once (Raft thesis 3.10). */
  TimeoutNow: 11,
  /** A follower asks the leader for a read index; `context` identifies the request. */
  ReadIndex: 12,
  /** The leader's answer to ReadIndex: `index` is the confirmed commit index. */
  ReadIndexResp: 13,
  /** A proposal forwarded from a follower to the leader (`entries`, term 0). */
  Propose: 14,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** A bounded slice of snapshot data; the receiver reassembles chunks in offset order. */
export interface SnapshotChunk {
  meta: SnapshotMeta;
  /** Byte offset of `data` within the whole snapshot data. */
  offset: number;
  /** Total snapshot data length in bytes; the chunk with offset + data.length === total is the last. */
  total: number;
  data: Uint8Array;
}

/**
 * A peer message. One flat shape for every type (like raftpb.Message) so that objects stay
 * monomorphic and a codec can write every field; unused fields are 0, '', false or empty.
 */
export interface Message {
  type: MessageType;
  from: NodeId;
  to: NodeId;
  /** Sender's term; 0 for Propose and ReadIndex, which are not term-scoped. */
  term: number;
  logTerm: number;
  index: number;
  commit: number;
  entries: Entry[];
  reject: boolean;
  rejectHint: number;
  context: Uint8Array;
  snapshot: SnapshotChunk | null;
}

/** The role a node plays in its current term. */
export const Role = {
  Follower: 'follower',
  PreCandidate: 'pre-candidate',
  Candidate: 'candidate',
  Leader: 'leader',
} as const;
export type Role = (typeof Role)[keyof typeof Role];

/** Volatile state worth reporting (not persisted). */
export interface SoftState {
  /** The known leader, or "" for none. */
  lead: NodeId;
  role: Role;
}

/** A confirmed linearizable read point: reads of state applied through `index` are fresh. */
export interface ReadState {
  index: number;
  context: Uint8Array;
}

/**
 * Everything the driver must do after a batch of steps (etcd Ready). Order: write `snapshot`,
 * `entries` (truncating any stored suffix from entries[0].index) and `hardState`; fsync when
 * `mustSync`; send `messagesAfterPersist`; apply `snapshot` then `committedEntries`; then
 * call advance(). `messages` may be sent at once, before the write completes.
 */
export interface Ready {
  /** Present when leader or role changed since the previous Ready. */
  softState: SoftState | null;
  /** Present when term, vote or commit changed since the previous Ready. */
  hardState: HardState | null;
  entries: Entry[];
  /** A snapshot received from the leader, to persist and load into the state machine. */
  snapshot: Snapshot | null;
  committedEntries: Entry[];
  readStates: ReadState[];
  /** Safe to send before this Ready is persisted (the leader's replication, thesis 10.2.1). */
  messages: Message[];
  /** Must wait until this Ready's snapshot, entries and hard state are durable. */
  messagesAfterPersist: Message[];
  /** True when term, vote, entries or snapshot changed: the write must be fsynced. */
  mustSync: boolean;
}

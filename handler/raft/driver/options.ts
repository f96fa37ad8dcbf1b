/** Options of a raft node (the driver), their defaults and validation. */
import type { StaticKey } from '../../../shared/crypto/static-key.ts';
import { codedError, ErrorCode } from '../../../shared/errors.ts';
import type { RaftMetrics } from '../../../shared/metrics/catalog.ts';
import type { RaftConfig } from '../core/index.ts';
import type { RaftListenOptions } from '../transport/transport.ts';
import type { TransportLimits } from '../transport/limits.ts';
import type { RaftLogger } from '../transport/logger.ts';
import type { RaftDialer } from '../transport/peer-link.ts';
import type { NodeId } from '../types.ts';

/**
 * The state machine committed entries are applied to (handler/state's StateMachine fits).
 * apply() must be deterministic and should not throw; it sees only application commands, in
 * log order, with their log index (indexes have gaps: no-op, membership and URL entries are
 * the driver's own).
 */
export interface RaftStateMachine<R> {
  apply(index: number, data: Uint8Array): R;
  /** The whole state as bytes. */
  snapshot(): Uint8Array;
  /** Replaces the whole state with a snapshot's. */
  restore(data: Uint8Array): void;
}

/** A member and the URL of its raft listener. */
export interface RaftPeer {
  readonly id: NodeId;
  readonly url: string;
}

/** Core settings a node may override (the rest are derived from the node options). */
export type RaftCoreTuning = Omit<
  RaftConfig,
  'id' | 'random' | 'initialVoters' | 'initialLearners' | 'electionTick' | 'heartbeatTick' | 'compactionMargin'
>;

/** Options of startRaftNode(). */
export interface RaftNodeOptions<R> {
  /** This node's id. */
  id: NodeId;
  /** Directory of the WAL and snapshots (owned by this node alone). */
  dataDir: string;
  /** Founding voters including this node (config raft.peers); empty = a single-node cluster. */
  peers?: readonly RaftPeer[];
  /** Start empty and wait to be added by the leader (a node joining a running cluster). */
  join?: boolean;
  stateMachine: RaftStateMachine<R>;
  /** The cluster key: authenticates raft links (both ends hold it). */
  staticKey: StaticKey;
  /** Start a listener for peers (config raft.listen); omit to feed links with node.transport.accept(). */
  listen?: RaftListenOptions;
  /** Length of a tick in ms (config raft.tickInterval). Default 100. */
  tickIntervalMs?: number;
  /** Election timeout in ticks (randomized up to twice this). Default 10. */
  electionTicks?: number;
  /** Heartbeat period in ticks. Default 1. */
  heartbeatTicks?: number;
  /** Applied entries between snapshots (config raft.snapshotThreshold). Default 10000. */
  snapshotThreshold?: number;
  /** Entries kept in memory below a snapshot for slow followers. Default min(1000, snapshotThreshold). */
  compactionMargin?: number;
  /** WAL segment size in bytes. Default 64 MiB. */
  segmentBytes?: number;
  /** Deadline of a proposal without its own signal, in ms. Default 10000. */
  proposalTimeoutMs?: number;
  /** Proposals waiting at once (in flight plus parked); beyond it propose() is refused. Default 100000. */
  maxPendingProposals?: number;
  /** Seed of the election-timeout PRNG. Default: random. */
  seed?: number;
  logger?: RaftLogger;
  metrics?: RaftMetrics;
  /** Further core settings (message sizes, in-flight limits, snapshot chunking). */
  raft?: RaftCoreTuning;
  transportLimits?: Partial<TransportLimits>;
  /** WebSocket dialer for tests. */
  dial?: RaftDialer;
  /** Called once when the node stops for good on an error (storage failure, corrupt log). */
  onFatal?: (err: Error) => void;
}

/** Numeric options with defaults filled in. */
export interface ResolvedNodeTimings {
  tickIntervalMs: number;
  electionTicks: number;
  heartbeatTicks: number;
  snapshotThreshold: number;
  compactionMargin: number;
  proposalTimeoutMs: number;
  maxPendingProposals: number;
}

function int(name: string, v: number, min: number): number {
  if (!Number.isSafeInteger(v) || v < min) {
    throw codedError(RangeError, ErrorCode.BAD_CONFIG, `Raft node ${name} must be an integer >= ${min}, got ${v}`);
  }
  return v;
}

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Throws BAD_CONFIG unless `id` is a valid node id (the config's id rule). */
export function checkNodeId(id: string, what = 'id'): void {
  if (typeof id !== 'string' || !ID.test(id)) {
    throw codedError(RangeError, ErrorCode.BAD_CONFIG, `Raft ${what} "${String(id)}" must be 1-64 letters, digits, '.', '_' or '-'`);
  }
}

/** Throws BAD_CONFIG unless `url` is a ws: or wss: URL. */
export function checkPeerUrl(url: string, what: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch (cause) {
    throw codedError(SyntaxError, ErrorCode.BAD_CONFIG, `Raft ${what} url "${url}" is not a URL`, cause);
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') {
    throw codedError(RangeError, ErrorCode.BAD_CONFIG, `Raft ${what} url must start with ws: or wss:, got ${u.protocol}`);
  }
}

/** Validates ids, peers and numbers; throws BAD_CONFIG naming the field. */
export function resolveNodeOptions(o: RaftNodeOptions<unknown>): ResolvedNodeTimings {
  checkNodeId(o.id);
  const peers = o.peers ?? [];
  const seen = new Set<string>();
  for (const p of peers) {
    checkNodeId(p.id, 'peer id');
    checkPeerUrl(p.url, `peer ${p.id}`);
    if (seen.has(p.id)) throw codedError(RangeError, ErrorCode.BAD_CONFIG, `Raft peers list ${p.id} twice`);
    seen.add(p.id);
  }
  if (peers.length > 0 && o.join !== true && !seen.has(o.id)) {
    throw codedError(RangeError, ErrorCode.BAD_CONFIG, `Raft peers must include this node (${o.id}) unless it joins a running cluster`);
  }
  const electionTicks = int('electionTicks', o.electionTicks ?? 10, 2);
  const heartbeatTicks = int('heartbeatTicks', o.heartbeatTicks ?? 1, 1);
  if (heartbeatTicks >= electionTicks) {
    throw codedError(RangeError, ErrorCode.BAD_CONFIG, `Raft node heartbeatTicks (${heartbeatTicks}) must be less than electionTicks (${electionTicks})`);
  }
  const snapshotThreshold = int('snapshotThreshold', o.snapshotThreshold ?? 10_000, 1);
  return {
    tickIntervalMs: int('tickIntervalMs', o.tickIntervalMs ?? 100, 1),
    electionTicks,
    heartbeatTicks,
    snapshotThreshold,
    compactionMargin: int('compactionMargin', o.compactionMargin ?? Math.min(1000, snapshotThreshold), 0),
    proposalTimeoutMs: int('proposalTimeoutMs', o.proposalTimeoutMs ?? 10_000, 1),
    maxPendingProposals: int('maxPendingProposals', o.maxPendingProposals ?? 100_000, 1),
  };
}

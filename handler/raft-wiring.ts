/**
 * The handler's replicated state from its config (ARCHITECTURE 4, docs/raft-operations.md 4):
 * a Raft node over handler/state's machine, on its own copy of the cluster key (the gateway
 * destroys its copy on close, and the node may still be flushing then).
 *
 * A cluster of one (no raft.peers, or only this node) is settled before the handler serves:
 * it elects itself at once, so startup waits for the leader and seeds the configured users and
 * exits itself. A seed the state would refuse is a config error found by a dry run on a
 * LocalStateStore before the node starts. A real
 * cluster is not waited for (its members start one by one); a leader seeds it when it finds
 * the state empty, and /ready says 503 until a leader is known.
 */
import type { HandlerConfig } from '../shared/config/handler.ts';
import { StaticKey } from '../shared/crypto/static-key.ts';
import { codedError, ErrorCode } from '../shared/errors.ts';
import type { Logger } from '../shared/log.ts';
import { raftMetrics } from '../shared/metrics/catalog.ts';
import type { Registry } from '../shared/metrics/registry.ts';
import { raftReadiness } from './api/readiness.ts';
import type { Readiness } from './api/types.ts';
import { startRaftStateStore, type RaftNode, type RaftPeer, type RaftStateStore, type RaftStateStoreOptions } from './raft/index.ts';
import { seedCommandsFromConfig, type SeedCommand } from './state/seed.ts';
import { LocalStateStore } from './state/store.ts';
import type { ApplyResult } from './state/types.ts';

/** Options of startReplicatedState(). */
export interface ReplicatedStateOptions {
  logger: Logger;
  registry: Registry;
  /** Called once when the node stops for good (storage failure, corrupt log). */
  onFatal: (err: Error) => void;
  /** Deadline for a cluster of one to elect itself and apply its seed, in ms (default 10000). */
  settleTimeoutMs?: number;
}

/** This handler's running Raft member and the StateStore over it. */
export interface ReplicatedState {
  readonly store: RaftStateStore;
  /** The member itself: the admin API's `cluster` and `control`. */
  readonly node: RaftNode<ApplyResult>;
  /** GET /ready: a leader is known and the committed state is applied (raftReadiness). */
  readonly readiness: () => Promise<Readiness>;
  /** Stops the node (flushes the WAL), then wipes its copy of the cluster key. */
  close(): Promise<void>;
}

/** Whether the config describes a cluster of this node alone (no peers, or only itself). */
export function isClusterOfOne(raft: HandlerConfig['raft'], nodeId: string): boolean {
  if (raft.join) return false;
  return raft.peers.length === 0 || (raft.peers.length === 1 && raft.peers[0]!.id === nodeId);
}

/**
 * Starts the node from config.raft: id nodeId, dataDir, peers, timings; the raft listener only
 * when there is someone to talk to (peers or join). Rejects with BAD_CONFIG when the listener
 * cannot be bound or a seed is refused, TIMEOUT when a cluster of one does not settle.
 */
export async function startReplicatedState(config: HandlerConfig, options: ReplicatedStateOptions): Promise<ReplicatedState> {
  const { raft } = config;
  const logger = options.logger.child({ component: 'raft' });
  const alone = isClusterOfOne(raft, config.nodeId);
  const seed = seedCommandsFromConfig(config);
  // Dry run first: a seed the state machine refuses (two users with one key) is a config error,
  // found before anything reaches the log, so a half-applied seed is never persisted.
  LocalStateStore.fromConfig(config);
  const key = StaticKey.fromPrivate(config.clusterKey.privateKey.bytes);
  const peers: RaftPeer[] = raft.peers.map((p) => ({ id: p.id, url: p.url }));
  const listen = raft.peers.length > 0 || raft.join;
  let started: Awaited<ReturnType<typeof startRaftStateStore>>;
  try {
    const storeOptions: RaftStateStoreOptions = {
      id: config.nodeId,
      dataDir: raft.dataDir,
      peers,
      join: raft.join,
      staticKey: key,
      ...(listen ? { listen: { hostname: raft.listen.host, port: raft.listen.port } } : {}),
      tickIntervalMs: raft.tickInterval,
      electionTicks: raft.electionTicks,
      heartbeatTicks: raft.heartbeatTicks,
      snapshotThreshold: raft.snapshotThreshold,
      logger,
      metrics: raftMetrics(options.registry),
      // A cluster of one seeds below, where a refused seed can fail the start.
      ...(alone ? {} : { seedCommands: seed }),
      onFatal: options.onFatal,
    };
    started = await startRaftStateStore(storeOptions);
  } catch (err) {
    key.destroy();
    throw err;
  }
  const { store, node } = started;
  const close = async (): Promise<void> => {
    await node.close();
    key.destroy();
  };
  if (alone && stillAlone(node, config.nodeId)) {
    try {
      await settleAlone(store, seed, options.settleTimeoutMs ?? 10_000, logger);
    } catch (err) {
      await close();
      throw err;
    }
  }
  return { store, node, readiness: raftReadiness(() => node.status()), close };
}

/**
 * The recovered membership decides whether a node configured alone still is (it may have been
 * grown since); a fresh node has not applied its bootstrap entry yet, so its config stands.
 */
function stillAlone(node: RaftNode<ApplyResult>, id: string): boolean {
  const { voters, learners } = node.raftStatus().conf;
  if (voters.length === 0 && learners.length === 0) return true;
  return voters.length === 1 && voters[0] === id && learners.length === 0;
}

async function settleAlone(store: RaftStateStore, seed: readonly SeedCommand[], timeoutMs: number, logger: Logger): Promise<void> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    await store.read(signal);
    if (seed.length === 0 || store.view.users.size > 0 || store.view.exits.size > 0) return;
    for (const { path, command } of seed) {
      const r = await store.propose(command, signal);
      if (!r.ok) {
        const field = r.error.field === undefined ? path : `${path}.${r.error.field}`;
        throw codedError(RangeError, ErrorCode.BAD_CONFIG, `Config ${field}: ${r.error.message}`);
      }
    }
    logger.info({ commands: seed.length }, 'Replicated state seeded from the config');
  } catch (err) {
    if (signal.aborted && (err as { code?: string }).code !== ErrorCode.BAD_CONFIG) {
      throw codedError(Error, ErrorCode.TIMEOUT, `Raft node did not elect itself and apply its seed within ${timeoutMs} ms (raft.dataDir slow or failing?)`, err);
    }
    throw err;
  }
}

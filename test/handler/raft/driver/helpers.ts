/**
 * In-process raft clusters for driver tests: real storage in temp dirs, real transports on
 * 127.0.0.1 (ports chosen before start, since every founding member must know the others'
 * URLs), the KV demo state machine, fast ticks. Every wait is bounded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRaftNode, type RaftNode, type RaftNodeOptions, type RaftPeer } from '../../../../handler/raft/index.ts';
import { KvMachine, type KvResult } from '../../../../handler/raft/kv-demo/index.ts';
import { generateKeyPair } from '../../../../shared/crypto/keys.ts';
import { StaticKey } from '../../../../shared/crypto/static-key.ts';
import { freePorts } from '../../../support/e2e/ports.ts';

/** The cluster key every test node shares. */
export const CLUSTER_KEY = StaticKey.fromPrivate(generateKeyPair().privateKey);

/** Fast timings for tests: 20 ms ticks, elections after 200-400 ms. */
export const FAST = { tickIntervalMs: 20, electionTicks: 10, heartbeatTicks: 1 } as const;

/** A temp dir removed by cleanup(). */
export function tempDir(name: string): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), `apfsds-raft-${name}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** One node of a test cluster, restartable on the same dir and port. */
export interface TestNode {
  id: string;
  dir: string;
  port: number;
  node: RaftNode<KvResult>;
  machine: KvMachine;
}

export type NodeOverrides = Partial<Omit<RaftNodeOptions<KvResult>, 'stateMachine'>>;

/** Starts (or restarts) one node. */
export async function startNode(id: string, dir: string, port: number, peers: RaftPeer[], extra: NodeOverrides = {}): Promise<TestNode> {
  const machine = new KvMachine();
  const node = await startRaftNode<KvResult>({
    id,
    dataDir: dir,
    peers,
    stateMachine: machine,
    staticKey: CLUSTER_KEY,
    listen: { hostname: '127.0.0.1', port, path: '/raft' },
    ...FAST,
    seed: id.charCodeAt(id.length - 1),
    transportLimits: { backoffMinMs: 20, backoffMaxMs: 200 },
    ...extra,
  });
  return { id, dir, port, node, machine };
}

/** A founding cluster of `n` nodes h1..hn. */
export async function startCluster(name: string, n: number, extra: NodeOverrides = {}): Promise<{ nodes: TestNode[]; peers: RaftPeer[]; root: { dir: string; cleanup(): void } }> {
  const root = tempDir(name);
  const ports = await freePorts(n);
  const peers = ports.map((p, i) => ({ id: `h${i + 1}`, url: `ws://127.0.0.1:${p}/raft` }));
  const nodes = await Promise.all(peers.map((p, i) => startNode(p.id, join(root.dir, p.id), ports[i]!, peers, extra)));
  return { nodes, peers, root };
}

/** Polls `check` every 20 ms for at most `ms`; throws naming `what` on timeout. */
export async function waitFor<T>(what: string, check: () => T | undefined | false, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (let i = 0; i < 100_000; i++) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`${what} did not happen within ${ms} ms`);
}

/** The node every live node agrees leads, once they all do. */
export function waitForLeader(nodes: TestNode[], ms = 10_000): Promise<TestNode> {
  return waitFor(
    'a leader known to every node',
    () => {
      const leaders = new Set(nodes.map((n) => n.node.leader));
      if (leaders.size !== 1) return undefined;
      const lead = nodes.find((n) => n.node.isLeader);
      return lead;
    },
    ms,
  );
}

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** Encodes a put. */
export { encodeKvCommand, KvOp } from '../../../../handler/raft/kv-demo/index.ts';

/** A value as text (or undefined). */
export function valueOf(m: KvMachine, key: string): string | undefined {
  const v = m.get(key);
  return v === undefined ? undefined : text.decode(v);
}

/** Bytes of a string. */
export function b(s: string): Uint8Array {
  return utf8.encode(s);
}

/**
 * Runs one raft node with the KV demo state machine and its HTTP API on 127.0.0.1, for the
 * process tests and `npm run bench -- raft`. Not a product entry point (the handler runs raft
 * with handler/state); see docs/raft-operations.md.
 *
 *   node --import tsx scripts/raft-node.ts --id h1 --data DIR --cluster-key KEY \
 *     --raft 127.0.0.1:7001 --http 127.0.0.1:0 --peers h1=ws://127.0.0.1:7001/raft,h2=...
 *
 * Options: --tick MS (50) --election TICKS (10) --heartbeat TICKS (1) --snapshot-threshold N
 * (10000) --compaction-margin N --segment-bytes N --join --seed N --log-level LEVEL. The cluster
 * key (base64url X25519 private key) may come from APFSDS_RAFT_CLUSTER_KEY instead. Prints one
 * JSON line {"msg":"ready","raftPort":...,"httpPort":...} once serving; exits 1 on a fatal error.
 */
import process from 'node:process';
import { parseArgs } from 'node:util';
import { decodeKey } from '../shared/crypto/keys.ts';
import { StaticKey } from '../shared/crypto/static-key.ts';
import { createLogger } from '../shared/log.ts';
import type { LogLevel } from '../shared/config/common.ts';
import { serve } from '../shared/runtime/http-server.ts';
import { onShutdownSignal } from '../shared/runtime/process.ts';
import { runtime } from '../shared/runtime/detect.ts';
import { startRaftNode, type RaftPeer } from '../handler/raft/index.ts';
import { createKvApp, KvMachine, type KvResult } from '../handler/raft/kv-demo/index.ts';

const { values } = parseArgs({
  options: {
    id: { type: 'string' },
    data: { type: 'string' },
    'cluster-key': { type: 'string' },
    raft: { type: 'string', default: '127.0.0.1:0' },
    http: { type: 'string', default: '127.0.0.1:0' },
    peers: { type: 'string', default: '' },
    tick: { type: 'string', default: '50' },
    election: { type: 'string', default: '10' },
    heartbeat: { type: 'string', default: '1' },
    'snapshot-threshold': { type: 'string', default: '10000' },
    'compaction-margin': { type: 'string' },
    'segment-bytes': { type: 'string' },
    'timeout-ms': { type: 'string', default: '5000' },
    join: { type: 'boolean', default: false },
    seed: { type: 'string' },
    'log-level': { type: 'string', default: 'info' },
  },
  strict: true,
});

function need(name: string, v: string | undefined): string {
  if (v === undefined || v === '') {
    console.error(`raft-node: --${name} is required`);
    process.exit(2);
  }
  return v;
}

function hostPort(s: string): { hostname: string; port: number } {
  const at = s.lastIndexOf(':');
  return { hostname: s.slice(0, at), port: Number(s.slice(at + 1)) };
}

const num = (s: string | undefined): number | undefined => (s === undefined ? undefined : Number(s));

const id = need('id', values.id);
const keyText = values['cluster-key'] ?? process.env['APFSDS_RAFT_CLUSTER_KEY'];
const staticKey = StaticKey.fromPrivate(decodeKey(need('cluster-key', keyText), 'cluster key'));
const peers: RaftPeer[] = values.peers
  .split(',')
  .filter((p) => p !== '')
  .map((p) => {
    const eq = p.indexOf('=');
    return { id: p.slice(0, eq), url: p.slice(eq + 1) };
  });
const logger = createLogger({ role: 'raft-demo', node: id, level: values['log-level'] as LogLevel, format: 'json' });
const machine = new KvMachine();
const compactionMargin = num(values['compaction-margin']);
const segmentBytes = num(values['segment-bytes']);
const seed = num(values.seed);

const node = await startRaftNode<KvResult>({
  id,
  dataDir: need('data', values.data),
  peers,
  join: values.join,
  stateMachine: machine,
  staticKey,
  listen: { ...hostPort(values.raft), path: '/raft' },
  tickIntervalMs: Number(values.tick),
  electionTicks: Number(values.election),
  heartbeatTicks: Number(values.heartbeat),
  snapshotThreshold: Number(values['snapshot-threshold']),
  ...(compactionMargin === undefined ? {} : { compactionMargin }),
  ...(segmentBytes === undefined ? {} : { segmentBytes }),
  ...(seed === undefined ? {} : { seed }),
  logger,
  onFatal: (err) => {
    logger.fatal({ err: err.message }, 'Raft node failed');
    process.exit(1);
  },
});
const http = await serve({
  ...hostPort(values.http),
  fetch: createKvApp({ node, machine, timeoutMs: Number(values['timeout-ms']) }),
});
// Printed whatever the log level: harnesses wait for this line.
process.stdout.write(`${JSON.stringify({ msg: 'ready', node: id, raftPort: node.transport.address?.port, httpPort: http.port, runtime, pid: process.pid })}\n`);

onShutdownSignal(() => {
  void (async () => {
    await http.close({ graceMs: 200 });
    await node.close();
    process.exit(0);
  })();
});

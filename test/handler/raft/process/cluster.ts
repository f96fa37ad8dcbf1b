/**
 * Raft clusters of real processes on 127.0.0.1 for the process tests and bench/raft.ts: each
 * node is scripts/raft-node.ts (KV demo state machine + HTTP API) started on the same runtime
 * as the caller (node --import tsx under Node, deno run -A under Deno). Raft ports are chosen
 * before start (founding members must know each other's URLs); HTTP ports come from each
 * node's "ready" line. Every wait is bounded.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { runtime } from '../../../../shared/runtime/detect.ts';
import { encodeKey, generateKeyPair } from '../../../../shared/crypto/keys.ts';
import { freePorts } from '../../../support/e2e/ports.ts';
import { REPO, roleEnv } from '../../../support/e2e/role-process.ts';
import { deferred, within } from '../../../support/e2e/wait.ts';

/** The node entry script. */
export const RAFT_NODE = join(REPO, 'scripts', 'raft-node.ts');
/** Spawn to ready, generous for a cold Deno start on a busy 2-core machine. */
export const READY_TIMEOUT_MS = 90_000;

/** The command that runs scripts/raft-node.ts on the caller's runtime. */
export function nodeCommand(args: string[]): { file: string; args: string[] } {
  if (runtime === 'deno') {
    const deno = join(REPO, 'node_modules', '.bin', 'deno');
    return { file: existsSync(deno) ? deno : process.execPath, args: ['run', '-A', RAFT_NODE, ...args] };
  }
  return { file: process.execPath, args: ['--import', 'tsx', RAFT_NODE, ...args] };
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** One node process. */
export class RaftProcess {
  readonly id: string;
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<number | string>;
  httpPort = 0;
  #ready = deferred<Record<string, unknown>>();
  #done = false;

  constructor(id: string, args: string[]) {
    this.id = id;
    const cmd = nodeCommand(args);
    this.child = spawn(cmd.file, cmd.args, { cwd: REPO, env: roleEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(this.child);
    const exited = deferred<number | string>();
    this.exited = exited.promise;
    this.child.once('exit', (code, signal) => {
      live.delete(this.child);
      this.#done = true;
      this.#ready.reject(new Error(`${id} exited (${code ?? signal}) before it was ready\n${this.tail()}`));
      exited.resolve(code ?? signal ?? 'unknown');
    });
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      let rest = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        rest += chunk;
        for (let nl = rest.indexOf('\n'); nl >= 0; nl = rest.indexOf('\n')) {
          this.#line(rest.slice(0, nl));
          rest = rest.slice(nl + 1);
        }
      });
    }
    this.#ready.promise.catch(() => {});
  }

  #line(text: string): void {
    if (this.lines.length < 50_000) this.lines.push(text);
    if (!text.startsWith('{')) return;
    try {
      const j = JSON.parse(text) as Record<string, unknown>;
      if (j['msg'] === 'ready') {
        this.httpPort = Number(j['httpPort']);
        this.#ready.resolve(j);
      }
    } catch {
      // not JSON
    }
  }

  get hasExited(): boolean {
    return this.#done;
  }

  ready(ms = READY_TIMEOUT_MS): Promise<Record<string, unknown>> {
    return within(this.#ready.promise, ms, `${this.id} ready line`);
  }

  /** JSON log records whose msg is `msg`. */
  records(msg: string): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const l of this.lines) {
      if (!l.includes(msg)) continue;
      try {
        const j = JSON.parse(l) as Record<string, unknown>;
        if (j['msg'] === msg) out.push(j);
      } catch {
        // not JSON
      }
    }
    return out;
  }

  tail(n = 30): string {
    return `--- last lines of ${this.id} ---\n${this.lines.slice(-n).join('\n')}`;
  }

  /** kill -9 and wait for the exit. */
  async kill9(): Promise<void> {
    if (this.#done) return;
    this.child.kill('SIGKILL');
    await within(this.exited, 10_000, `${this.id} to die`);
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.#done) return;
    this.child.kill('SIGTERM');
    try {
      await within(this.exited, graceMs, `${this.id} to stop`);
    } catch {
      await this.kill9();
    }
  }
}

/** Settings passed to every node. */
export interface ProcessClusterOptions {
  name: string;
  size: number;
  tickMs?: number;
  electionTicks?: number;
  snapshotThreshold?: number;
  compactionMargin?: number;
  segmentBytes?: number;
  timeoutMs?: number;
  logLevel?: string;
}

/** A cluster of node processes h1..hN. */
export class ProcessCluster {
  readonly dir: string;
  readonly key = encodeKey(generateKeyPair().privateKey);
  readonly o: ProcessClusterOptions;
  readonly raftPorts: number[];
  readonly procs = new Map<string, RaftProcess>();

  private constructor(o: ProcessClusterOptions, raftPorts: number[]) {
    this.o = o;
    this.raftPorts = raftPorts;
    this.dir = mkdtempSync(join(tmpdir(), `apfsds-raft-${o.name}-`));
  }

  /** Starts every node and waits for their ready lines. */
  static async start(o: ProcessClusterOptions): Promise<ProcessCluster> {
    for (let attempt = 1; ; attempt++) {
      const c = new ProcessCluster(o, await freePorts(o.size));
      try {
        await Promise.all(c.ids.map((id) => c.startNode(id)));
        return c;
      } catch (err) {
        const procs = [...c.procs.values()];
        const tails = procs.map((p) => p.tail()).join('\n');
        // A port found free can be taken by another process before our node binds it: try new ones.
        const collided = procs.some((p) => p.lines.some((l) => l.includes('EADDRINUSE')));
        await c.stop();
        if (collided && attempt < 3) continue;
        throw new Error(`${(err as Error).message}\n${tails}`);
      }
    }
  }

  get ids(): string[] {
    return this.raftPorts.map((_, i) => `h${i + 1}`);
  }

  get peers(): string {
    return this.raftPorts.map((p, i) => `h${i + 1}=ws://127.0.0.1:${p}/raft`).join(',');
  }

  /** (Re)starts node `id` on its data dir and raft port; resolves once it is ready. */
  async startNode(id: string): Promise<RaftProcess> {
    const i = Number(id.slice(1)) - 1;
    const o = this.o;
    const args = [
      '--id', id,
      '--data', join(this.dir, id),
      // "=" form: a base64url key may start with "-", which parseArgs would take for an option.
      `--cluster-key=${this.key}`,
      '--raft', `127.0.0.1:${this.raftPorts[i]}`,
      '--http', '127.0.0.1:0',
      '--peers', this.peers,
      '--tick', String(o.tickMs ?? 50),
      '--election', String(o.electionTicks ?? 10),
      '--snapshot-threshold', String(o.snapshotThreshold ?? 10_000),
      '--timeout-ms', String(o.timeoutMs ?? 5000),
      '--log-level', o.logLevel ?? 'info',
      '--seed', String(i + 1 + Date.now() % 1000),
    ];
    if (o.compactionMargin !== undefined) args.push('--compaction-margin', String(o.compactionMargin));
    if (o.segmentBytes !== undefined) args.push('--segment-bytes', String(o.segmentBytes));
    const p = new RaftProcess(id, args);
    this.procs.set(id, p);
    await p.ready();
    return p;
  }

  /** Live processes. */
  live(): RaftProcess[] {
    return [...this.procs.values()].filter((p) => !p.hasExited);
  }

  /** Stops every process and removes the data dir. */
  async stop(): Promise<void> {
    await Promise.all([...this.procs.values()].map((p) => p.stop()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** GET /status of a node. */
export async function nodeStatus(p: RaftProcess): Promise<{ stats: Record<string, unknown> & { leader: string | null; role: string; appliedIndex: number; commitIndex: number; snapshotsInstalled: number } }> {
  const r = await fetch(`http://127.0.0.1:${p.httpPort}/status`, { signal: AbortSignal.timeout(3000) });
  return (await r.json()) as never;
}

/** The leader every live node agrees on, polled for at most `ms`. */
export async function agreedLeader(c: ProcessCluster, ms = 20_000): Promise<RaftProcess> {
  const end = Date.now() + ms;
  let last = '';
  while (Date.now() < end) {
    try {
      const live = c.live();
      const sts = await Promise.all(live.map((p) => nodeStatus(p)));
      const leaders = new Set(sts.map((s) => s.stats.leader));
      last = [...leaders].join(',');
      const lead = sts[0]?.stats.leader;
      if (leaders.size === 1 && lead !== null && lead !== undefined && c.procs.get(lead) !== undefined && !c.procs.get(lead)!.hasExited) {
        return c.procs.get(lead)!;
      }
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`No agreed leader within ${ms} ms (last view: ${last})`);
}

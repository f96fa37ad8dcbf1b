/**
 * A data-plane cluster of real processes on 127.0.0.1: exits, one handler, clients. Writes
 * each role's config file (JSON for exits and clients, YAML for the handler) with fresh keys
 * into a temp dir, starts exits first (their link ports go into the handler's exit list),
 * then the handler, then the clients, each bound to port 0 and read back from its "ready" line.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { newKeyPair, newToken, secretPathOf, writeKeyFile, type KeyText } from './keys.ts';
import { metricSum, scrape, type Sample } from './observe.ts';
import { spawnRole, type RoleProcess } from './role-process.ts';

/** Loopback ranges the test exits may reach (the origin lives on 127.0.0.1). */
export const LOOPBACK_EGRESS = ['127.0.0.0/8', '::1/128'];
/** How long a role may take from spawn to its "ready" line (cold Deno start on a busy 2-core box). */
export const READY_TIMEOUT_MS = 120_000;
const LOG_LEVEL = process.env['APFSDS_E2E_LOG_LEVEL'] ?? 'info';

type Json = Record<string, unknown>;

/** An exit to start. */
export interface ExitSpec {
  id: string;
  region?: string;
  weight?: number;
  /** Seed state in the handler's exit list. */
  state?: 'active' | 'draining' | 'disabled';
  /** egress.allow; default LOOPBACK_EGRESS, [] = the built-in policy alone. */
  allowEgress?: string[];
  /** Merged into the generated exit config. */
  config?: Json;
  /** Extra environment of the process (e.g. NODE_OPTIONS=--cpu-prof for a profile). */
  env?: Record<string, string>;
}

/** A client (local proxy) to start. */
export interface ClientSpec {
  name: string;
  /** The user whose key it holds (see ClusterOptions.users). */
  user: string;
  /** Merged into the generated client config. */
  config?: Json;
  /** Wait for its "ready" line (default true). */
  waitReady?: boolean;
  /** Extra environment of the process. */
  env?: Record<string, string>;
}

/** What to start. */
export interface ClusterOptions {
  /** Temp dir prefix and log names. */
  name: string;
  /** On Node, run every role from the compiled dist/ (as `npm start` and the deploy artifacts do). */
  fromBuild?: boolean;
  exits?: ExitSpec[];
  /** Users registered on the handler (default ["alice"]). */
  users?: string[];
  /** Default: one client "alice" for user alice. */
  clients?: ClientSpec[];
  handler?: {
    /** Serve WSS with these files. */
    tls?: { certFile: string; keyFile: string };
    /** Merged into the generated handler config. */
    config?: Json;
    /** Extra environment of the process. */
    env?: Record<string, string>;
  };
}

/** A started exit. */
export interface ExitNode {
  spec: ExitSpec;
  proc: RoleProcess;
  keys: KeyText;
  linkPort: number;
  statusPort: number | undefined;
  url: string;
}

/** A started client. */
export interface ClientNode {
  spec: ClientSpec;
  proc: RoleProcess;
  configFile: string;
  port: number;
  /** Its status listener, when its config enables one. */
  statusPort: number | undefined;
}

function isPlain(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Recursive merge of plain objects; arrays and scalars in `over` replace. */
export function merge(base: Json, over: Json | undefined): Json {
  if (over === undefined) return base;
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isPlain(b) && isPlain(v) ? merge(b, v) : v;
  }
  return out;
}

/** The first numeric field of a ready line among `names`. */
export function portOf(ready: Json, names: string[], what: string): number {
  for (const n of names) {
    const v = ready[n];
    if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
  }
  throw new Error(`The ready line of ${what} has none of the port fields ${names.join(', ')}: ${JSON.stringify(ready)}`);
}

function optionalPort(ready: Json, names: string[]): number | undefined {
  for (const n of names) {
    const v = ready[n];
    if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
  }
  return undefined;
}

/** A running cluster. Always stop() it (in an after hook). */
export class Cluster {
  readonly dir: string;
  readonly options: ClusterOptions;
  readonly clusterKeys = newKeyPair();
  readonly userKeys = new Map<string, KeyText>();
  readonly token = newToken();
  readonly path = secretPathOf('t');
  readonly linkPath = secretPathOf('l');
  readonly exits = new Map<string, ExitNode>();
  readonly clients = new Map<string, ClientNode>();
  handler: RoleProcess | undefined;
  handlerPort = 0;
  adminPort = 0;
  #procs: RoleProcess[] = [];
  #stopped = false;

  private constructor(options: ClusterOptions) {
    this.options = options;
    this.dir = mkdtempSync(join(tmpdir(), `apfsds-e2e-${options.name}-`));
    for (const u of options.users ?? ['alice']) this.userKeys.set(u, newKeyPair());
  }

  /** Starts every role; on any failure stops what started and rethrows with their logs. */
  static async start(options: ClusterOptions): Promise<Cluster> {
    const c = new Cluster(options);
    try {
      await Promise.all((options.exits ?? [{ id: 'exit-a' }]).map((e) => c.startExit(e)));
      await c.startHandler();
      await Promise.all((options.clients ?? [{ name: 'alice', user: 'alice' }]).map((s) => c.startClient(s)));
      return c;
    } catch (err) {
      const logs = c.tails();
      await c.stop();
      const msg = err instanceof Error ? err.message : String(err);
      throw new Error(`${msg}\n${msg.includes('--- last') ? '' : logs}`);
    }
  }

  #spawn(name: string, args: string[], env?: Record<string, string>): RoleProcess {
    const p = spawnRole({ name, args, logDir: this.dir, fromBuild: this.options.fromBuild === true, ...(env === undefined ? {} : { env }) });
    this.#procs.push(p);
    return p;
  }

  #write(name: string, config: Json, yaml = false): string {
    const file = join(this.dir, `${name}.${yaml ? 'yaml' : 'json'}`);
    writeFileSync(file, yaml ? stringify(config) : `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    return file;
  }

  /** Writes an exit config and starts it; resolves once it is ready. */
  async startExit(spec: ExitSpec): Promise<ExitNode> {
    const keys = this.exits.get(spec.id)?.keys ?? newKeyPair();
    const config = merge(
      {
        id: spec.id,
        region: spec.region ?? 'test',
        key: { privateKey: { file: writeKeyFile(this.dir, spec.id, keys) } },
        clusterPublicKey: this.clusterKeys.publicKey,
        listen: { host: '127.0.0.1', port: 0, path: this.linkPath },
        egress: { allow: spec.allowEgress ?? LOOPBACK_EGRESS },
        connectTimeout: '5s',
        udp: { enabled: false },
        status: { enabled: true, host: '127.0.0.1', port: 0 },
        log: { level: LOG_LEVEL, format: 'json' },
      },
      spec.config,
    );
    const file = this.#write(spec.id, config);
    const proc = this.#spawn(spec.id, ['exit', '--config', file], spec.env);
    const ready = await proc.waitReady(READY_TIMEOUT_MS);
    const linkPort = portOf(ready, ['linkPort', 'port', 'listenPort'], spec.id);
    const node: ExitNode = {
      spec,
      proc,
      keys,
      linkPort,
      statusPort: optionalPort(ready, ['statusPort']),
      url: `ws://127.0.0.1:${linkPort}${this.linkPath}`,
    };
    this.exits.set(spec.id, node);
    return node;
  }

  /** The handler config as generated (exits must have started). */
  handlerConfig(): Json {
    const h = this.options.handler;
    const clusterKeyFile = writeKeyFile(this.dir, 'cluster', this.clusterKeys);
    return merge(
      {
        nodeId: 'h1',
        listen: { host: '127.0.0.1', port: 0 },
        ...(h?.tls ? { tls: h.tls } : {}),
        path: this.path,
        clusterKey: { privateKey: { file: clusterKeyFile } },
        limits: {
          handshakeTimeout: '3s',
          maxStreamsPerSession: 1024,
          // Tests move GiBs on loopback: the default 100 Mbit/s per user would only slow them.
          userBandwidth: { rate: '10GB', burst: '64MiB' },
          connectionRate: { rate: 1000, burst: 1000 },
        },
        users: [...this.userKeys].map(([id, k]) => ({ id, publicKey: k.publicKey })),
        exits: [...this.exits.values()].map((e) => ({
          id: e.spec.id,
          url: e.url,
          region: e.spec.region ?? 'test',
          weight: e.spec.weight ?? 1,
          publicKey: e.keys.publicKey,
          ...(e.spec.state ? { state: e.spec.state } : {}),
        })),
        links: { poolSize: 1 },
        // Fast heartbeats so a dead exit is noticed quickly, but room for a busy CI box's event-loop stalls.
        health: { heartbeatInterval: '500ms', heartbeatTimeout: '2s', maxMissedHeartbeats: 3 },
        admin: { enabled: true, host: '127.0.0.1', port: 0, token: this.token },
        raft: { dataDir: join(this.dir, 'raft'), listen: { host: '127.0.0.1', port: 0 } },
        log: { level: LOG_LEVEL, format: 'json' },
      },
      h?.config,
    );
  }

  /** Writes the handler config and starts it; resolves once it is ready. */
  async startHandler(): Promise<RoleProcess> {
    const file = this.#write('handler', this.handlerConfig(), true);
    const proc = this.#spawn('handler', ['handler', '--config', file], this.options.handler?.env);
    const ready = await proc.waitReady(READY_TIMEOUT_MS);
    this.handler = proc;
    this.handlerPort = portOf(ready, ['port', 'listenPort'], 'the handler');
    this.adminPort = optionalPort(ready, ['adminPort']) ?? 0;
    return proc;
  }

  /** The session URL clients dial. */
  get handlerUrl(): string {
    return `${this.options.handler?.tls ? 'wss' : 'ws'}://127.0.0.1:${this.handlerPort}${this.path}`;
  }

  /** Writes a client config and starts it. */
  async startClient(spec: ClientSpec): Promise<ClientNode> {
    const keys = this.userKeys.get(spec.user) ?? newKeyPair();
    const config = merge(
      {
        listen: { host: '127.0.0.1', port: 0 },
        handlers: [this.handlerUrl],
        clusterPublicKey: this.clusterKeys.publicKey,
        key: { privateKey: { file: writeKeyFile(this.dir, `user-${spec.name}`, keys) } },
        poolSize: 2,
        reconnect: { min: '100ms', max: '2s' },
        openTimeout: '10s',
        log: { level: LOG_LEVEL, format: 'json' },
      },
      spec.config,
    );
    const configFile = this.#write(`client-${spec.name}`, config);
    const proc = this.#spawn(`client-${spec.name}`, ['client', '--config', configFile], spec.env);
    const node: ClientNode = { spec, proc, configFile, port: 0, statusPort: undefined };
    if (spec.waitReady !== false) {
      const ready = await proc.waitReady(READY_TIMEOUT_MS);
      node.port = portOf(ready, ['port', 'listenPort'], `client ${spec.name}`);
      node.statusPort = optionalPort(ready, ['statusPort']);
    }
    this.clients.set(spec.name, node);
    return node;
  }

  /** The local proxy port of a client (default: the first). */
  proxyPort(name?: string): number {
    const c = name === undefined ? this.clients.values().next().value : this.clients.get(name);
    if (c === undefined) throw new Error(`No client ${name ?? '(any)'}`);
    return c.port;
  }

  /** The exit node `id` (throws if unknown). */
  exit(id: string): ExitNode {
    const e = this.exits.get(id);
    if (e === undefined) throw new Error(`No exit ${id}`);
    return e;
  }

  /** Samples from an exit's /metrics. */
  async exitMetrics(id: string): Promise<Sample[]> {
    const e = this.exit(id);
    if (e.statusPort === undefined) throw new Error(`Exit ${id} reported no statusPort in its ready line`);
    return scrape(`http://127.0.0.1:${e.statusPort}/metrics`);
  }

  /** Samples from a client's /metrics (its config must enable status). */
  async clientMetrics(name: string): Promise<Sample[]> {
    const c = this.clients.get(name);
    if (c?.statusPort === undefined) throw new Error(`Client ${name} reported no statusPort in its ready line`);
    return scrape(`http://127.0.0.1:${c.statusPort}/metrics`);
  }

  /** Samples from the handler's /metrics (admin listener). */
  async handlerMetrics(): Promise<Sample[]> {
    if (this.adminPort === 0) throw new Error('The handler reported no adminPort in its ready line');
    return scrape(`http://127.0.0.1:${this.adminPort}/metrics`, { authorization: `Bearer ${this.token}` });
  }

  /** Streams each exit was chosen for, from the handler's apfsds_handler_exit_selections_total. */
  async selections(): Promise<Map<string, number>> {
    const samples = await this.handlerMetrics();
    return new Map([...this.exits.keys()].map((id) => [id, metricSum(samples, 'apfsds_handler_exit_selections_total', { exit: id })]));
  }

  /** Every process's last lines, for failure messages. */
  tails(n = 30): string {
    return this.#procs.map((p) => p.tail(n)).join('\n');
  }

  /** Stops every role (SIGTERM, then SIGKILL) and removes the temp dir unless APFSDS_E2E_KEEP is set. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    await Promise.allSettled([...this.#procs].reverse().map((p) => p.stop()));
    if (process.env['APFSDS_E2E_KEEP'] === undefined) rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Runs `fn`; if it throws, rethrows with the cluster's log tails appended, so a failing
 * assertion shows what the roles said.
 */
export async function withLogs<T>(cluster: Cluster | undefined, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (cluster === undefined) throw err;
    const e = err instanceof Error ? err : new Error(String(err));
    e.message = `${e.message}\n${cluster.tails()}`;
    throw e;
  }
}

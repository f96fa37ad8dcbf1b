/**
 * `apfsds up` (the default of `npm start`): handler, exit and the local proxy in one process
 * on this machine (deployment shape 1 of ARCHITECTURE 1). On the first run the cluster, exit
 * and user keys, the admin token and the two secret paths are generated into the data dir
 * (directory 0700, files 0600) and every later run reuses them, so the keys a user copied
 * elsewhere stay valid. `expandUpConfig` turns the up config plus that material into the three
 * role configs, so the roles run exactly as they would when split across machines.
 */
import { chmod, mkdir, open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import process from 'node:process';
import { startClient, type RunningClient } from '../../client/main.ts';
import { startExit, type RunningExit } from '../../exit/main.ts';
import { startHandler, type RunningHandler } from '../../handler/main.ts';
import { COMMAND_VERSION } from '../../handler/state/commands.ts';
import {
  expandUpConfig,
  parseConfigText,
  resolveSecrets,
  validateConfig,
  type ConfigIO,
  type UpConfig,
  type UpMaterial,
} from '../../shared/config/index.ts';
import { secretPath } from '../../shared/config/primitives.ts';
import { encodeBase64Url } from '../../shared/config/base64url.ts';
import { decodeKey, encodeKey, generatePrivateKey } from '../../shared/crypto/keys.ts';
import { childLogger, initLogger, type Logger } from '../../shared/log.ts';
import { Registry } from '../../shared/metrics/registry.ts';
import { fileConfigIO, parseCommandArgs, runUntilSignal } from '../role-command.ts';

/** One-line description for `apfsds --help`. */
export const summary = 'Run handler, exit and local SOCKS5/HTTP proxy together on this machine';

const USAGE = `Usage: apfsds up [options]

Runs the handler, an exit and the local SOCKS5/HTTP proxy in one process. Keys, the admin
token and the secret paths are generated into the data dir on the first run and reused.

Options:
  -c, --config FILE         up config (YAML or JSON); default $APFSDS_CONFIG, else defaults
      --allow-egress CIDR   let the exit reach a range it refuses by default (repeatable),
                            e.g. 127.0.0.0/8 to reach services on this machine
      --data-dir DIR        where keys, token, paths and raft data live (default ./.apfsds)
      --host HOST           bind address of every listener (default 127.0.0.1)
      --proxy-port N        local SOCKS5/HTTP proxy port (default 1080; 0 = any free port)
      --handler-port N      handler session port (default 8443)
      --exit-port N         exit link port (default 8444)
      --admin-port N        admin API, /health, /ready, /metrics (default 9090)
  -h, --help                show this help

Flags win over the config file and APFSDS_UP__* variables. Stops cleanly on SIGINT or SIGTERM.`;

/** The files of the generated material inside the data dir. */
export const MATERIAL_FILES = {
  clusterKey: 'cluster.key',
  exitKey: 'exit.key',
  userKey: 'user.key',
  adminToken: 'admin.token',
  sessionPath: 'session.path',
  linkPath: 'link.path',
} as const;

/** The id expandUpConfig gives the all-in-one exit (and node, user). */
const LOCAL_EXIT_ID = 'local';

/** How long `up` waits for the exit link and the first session before saying it is ready. */
const READY_WAIT_MS = 15_000;

const randomText = (bytes: number): string => encodeBase64Url(globalThis.crypto.getRandomValues(new Uint8Array(bytes)));

/** Reads `name` from `dir`, or creates it (mode 0600, never overwriting) with `make()`. */
async function loadOrCreate(dir: string, name: string, make: () => string, check: (text: string) => void, created: string[]): Promise<string> {
  const path = join(dir, name);
  try {
    const text = (await readFile(path, 'utf8')).trim();
    try {
      check(text);
    } catch (err) {
      throw new Error(`${path} is not valid: ${(err as Error).message}; fix or delete it to generate a new one`, { cause: err });
    }
    return text;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const text = make();
  // 'wx' = O_CREAT|O_EXCL: a concurrent run cannot be overwritten, and the file is 0600 from
  // its first byte (fchmod because the umask could have widened the create mode).
  const handle = await open(path, 'wx', 0o600);
  try {
    await handle.chmod(0o600);
    await handle.writeFile(`${text}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  created.push(name);
  return text;
}

/**
 * Loads the generated material from `dataDir`, generating what is missing. The directory is
 * created with mode 0700; an existing one readable by others gets a warning.
 */
export async function loadOrCreateMaterial(dataDir: string, warn: (message: string) => void): Promise<{ material: UpMaterial; created: string[] }> {
  let existed = true;
  try {
    await stat(dataDir);
  } catch {
    existed = false;
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (!existed) await chmod(dataDir, 0o700);
  else {
    const mode = (await stat(dataDir)).mode & 0o777;
    if ((mode & 0o077) !== 0) warn(`Data dir ${dataDir} has mode ${mode.toString(8).padStart(4, '0')}; expected 0700 (it holds private keys)`);
  }
  const created: string[] = [];
  const key = (name: string): Promise<string> =>
    loadOrCreate(dataDir, name, () => encodeKey(generatePrivateKey()), (t) => void decodeKey(t, name), created);
  const isPath = (t: string): void => {
    const r = secretPath().safeParse(t);
    if (!r.success) throw new Error(r.error.issues[0]?.message ?? 'not a secret path');
  };
  const cluster = await key(MATERIAL_FILES.clusterKey);
  const exit = await key(MATERIAL_FILES.exitKey);
  const user = await key(MATERIAL_FILES.userKey);
  const adminToken = await loadOrCreate(dataDir, MATERIAL_FILES.adminToken, () => randomText(32), (t) => {
    if (t.length < 16) throw new Error('expected a token of at least 16 characters');
  }, created);
  const path = await loadOrCreate(dataDir, MATERIAL_FILES.sessionPath, () => `/${randomText(12)}`, isPath, created);
  const linkPath = await loadOrCreate(dataDir, MATERIAL_FILES.linkPath, () => `/${randomText(12)}`, isPath, created);
  return {
    material: {
      clusterPrivateKey: decodeKey(cluster, MATERIAL_FILES.clusterKey),
      exitPrivateKey: decodeKey(exit, MATERIAL_FILES.exitKey),
      userPrivateKey: decodeKey(user, MATERIAL_FILES.userKey),
      adminToken,
      path,
      linkPath,
    },
    created,
  };
}

type Flags = {
  config?: string | undefined;
  'allow-egress'?: string[] | undefined;
  'data-dir'?: string | undefined;
  host?: string | undefined;
  'proxy-port'?: string | undefined;
  'handler-port'?: string | undefined;
  'exit-port'?: string | undefined;
  'admin-port'?: string | undefined;
};

// Environment names (case and '_' ignored, as the loader matches them) that a flag replaces.
const norm = (name: string): string => name.toUpperCase().replace(/_/g, '');

/**
 * Reads the up config: the file (or none), APFSDS_UP__* variables, then the flags on top, all
 * through one schema validation so a bad flag is reported like a bad field.
 */
async function loadUpConfig(flags: Flags, io: ConfigIO): Promise<UpConfig> {
  const file = flags.config ?? (io.env['APFSDS_CONFIG'] || undefined);
  const doc: Record<string, unknown> = file === undefined ? {} : parseConfigText(await io.readText(file), `up config ${file}`);
  const env: Record<string, string | undefined> = { ...io.env };
  const drop = (...names: string[]): void => {
    const wanted = new Set(names.map(norm));
    for (const k of Object.keys(env)) if (wanted.has(norm(k))) delete env[k];
  };
  const num = (v: string): number | string => (/^\d+$/.test(v) ? Number(v) : v);
  const ports = { ...((doc['ports'] as Record<string, unknown> | undefined) ?? {}) };
  const portFlags = [['proxy-port', 'proxy'], ['handler-port', 'handler'], ['exit-port', 'exit'], ['admin-port', 'admin']] as const;
  for (const [flag, field] of portFlags) {
    const v = flags[flag];
    if (v === undefined) continue;
    ports[field] = num(v);
    drop(`APFSDS_UP__PORTS__${field}`);
  }
  if (Object.keys(ports).length > 0) doc['ports'] = ports;
  if (flags['data-dir'] !== undefined) {
    doc['dataDir'] = flags['data-dir'];
    drop('APFSDS_UP__DATA_DIR');
  }
  if (flags.host !== undefined) {
    doc['host'] = flags.host;
    drop('APFSDS_UP__HOST');
  }
  const extra = flags['allow-egress'] ?? [];
  if (extra.length > 0) {
    // --allow-egress adds to what the file or the environment opened.
    const fromEnv = env['APFSDS_UP__ALLOW_EGRESS'] ?? env['APFSDS_EGRESS_ALLOW'];
    const base = fromEnv !== undefined && fromEnv !== '' ? fromEnv.split(',').map((s) => s.trim()).filter((s) => s !== '') : ((doc['allowEgress'] as unknown[] | undefined) ?? []);
    doc['allowEgress'] = [...base, ...extra];
    drop('APFSDS_UP__ALLOW_EGRESS', 'APFSDS_EGRESS_ALLOW');
  }
  const config = validateConfig('up', doc, { env, ...(file === undefined ? {} : { source: file }) });
  const slash = file === undefined ? -1 : file.lastIndexOf('/');
  await resolveSecrets(config, io, file === undefined ? undefined : slash < 0 ? '' : file.slice(0, slash), 'up config');
  return config;
}

interface Running {
  exit?: RunningExit;
  handler?: RunningHandler;
  client?: RunningClient;
}

async function stopAll(r: Running, logger: Logger): Promise<void> {
  // Reverse start order: apps first lose the proxy, then sessions, then links.
  for (const [name, role] of [['client', r.client], ['handler', r.handler], ['exit', r.exit]] as const) {
    if (role === undefined) continue;
    try {
      await role.close();
    } catch (err) {
      logger.error({ err, unit: name }, 'stopping failed');
    }
  }
}

/**
 * The handler seeds its replicated state from config only on the first start; later starts
 * restore it from the data dir. The exit's link port may differ between runs (another
 * `--exit-port`, or port 0), so the all-in-one run points the exit record at this run's URL.
 */
async function reconcileExitUrl(handler: RunningHandler, url: string | undefined, logger: Logger): Promise<void> {
  const current = handler.store.view.exits.get(LOCAL_EXIT_ID);
  if (url === undefined || current === undefined || current.url === url) return;
  const result = await handler.store.propose({ v: COMMAND_VERSION, op: 'exit.update', id: LOCAL_EXIT_ID, url });
  if (result.ok) logger.info({ exit: LOCAL_EXIT_ID }, 'pointed the replicated exit record at this run\'s exit port');
  else logger.warn({ exit: LOCAL_EXIT_ID, err: result.error }, 'could not update the exit record; the handler may dial a stale port');
}

/** Starts exit, handler and client in that order; on failure stops what started. */
async function startAll(up: UpConfig, material: UpMaterial, logger: Logger, r: Running): Promise<void> {
  const registry = new Registry();
  // "unit" names the embedded role; the roles' own subsystems log a "component" of their own
  // (links, raft, admin), and one key twice on a line is what log parsers disagree about.
  const log = (unit: string): Logger => childLogger(logger, { unit });
  let m: UpMaterial = material;
  // Ports may be 0 (any free port): each later role's config is built with the ports the
  // earlier ones actually bound (UpMaterial.boundPorts).
  const exit = await startExit(expandUpConfig(up, m).exit, { logger: log('exit'), registry });
  r.exit = exit;
  m = { ...m, boundPorts: { ...(exit.linkPort === undefined ? {} : { exit: exit.linkPort }) } };
  const handler = await startHandler(expandUpConfig(up, m).handler, { logger: log('handler'), registry });
  r.handler = handler;
  await reconcileExitUrl(handler, expandUpConfig(up, m).handler.exits[0]?.url, logger);
  m = { ...m, boundPorts: { ...m.boundPorts, handler: handler.port } };
  // Apps that arrive before the handler's link to the exit is up would be refused with
  // NO_EXIT, so the proxy opens only once it is (bounded: a broken link is logged, not awaited).
  let timer: ReturnType<typeof setTimeout> | undefined;
  const linked = await Promise.race([
    handler.links.when(() => handler.links.linkCount() > 0).then(() => true),
    new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), READY_WAIT_MS);
    }),
  ]);
  clearTimeout(timer);
  if (!linked) logger.warn({ waitedMs: READY_WAIT_MS }, 'the handler has no link to the exit yet; starting the proxy anyway');
  const client = await startClient(expandUpConfig(up, m).client, { logger: log('client'), registry });
  r.client = client;
  if (!(await client.waitForSession(READY_WAIT_MS))) {
    logger.warn({ waitedMs: READY_WAIT_MS }, 'the proxy has no session to the handler yet; apps will wait for one');
  }
}

/** Runs `apfsds up`; resolves with the exit code once stopped. */
export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    argv,
    {
      config: { type: 'string', short: 'c' },
      'allow-egress': { type: 'string', multiple: true },
      'data-dir': { type: 'string' },
      host: { type: 'string' },
      'proxy-port': { type: 'string' },
      'handler-port': { type: 'string' },
      'exit-port': { type: 'string' },
      'admin-port': { type: 'string' },
    },
    USAGE,
  );
  if (typeof parsed === 'number') return parsed;
  const flags: Flags = parsed;
  const warnings: string[] = [];
  const io = fileConfigIO(warnings);
  let up: UpConfig;
  try {
    up = await loadUpConfig(flags, io);
  } catch (err) {
    console.error((err as Error).message);
    return 1;
  }
  const logger = initLogger({ role: 'up', level: up.log.level, format: up.log.format, env: process.env });
  for (const message of warnings) logger.warn(message);

  let material: UpMaterial;
  try {
    const loaded = await loadOrCreateMaterial(up.dataDir, (message) => logger.warn(message));
    material = loaded.material;
    if (loaded.created.length > 0) logger.info({ dataDir: up.dataDir, files: loaded.created }, 'generated keys, token and paths');
    else logger.info({ dataDir: up.dataDir }, 'reusing keys, token and paths');
  } catch (err) {
    logger.error({ err: (err as Error).message }, 'cannot prepare the data dir');
    return 1;
  }

  const running: Running = {};
  try {
    await startAll(up, material, logger, running);
  } catch (err) {
    logger.error({ err }, 'apfsds up failed to start');
    await stopAll(running, logger);
    return 1;
  }
  const proxyPort = running.client?.port ?? 0;
  const proxyHost = up.host === '0.0.0.0' || up.host === '::' ? '127.0.0.1' : up.host;
  const hostText = proxyHost.includes(':') ? `[${proxyHost}]` : proxyHost;
  logger.info(
    {
      port: proxyPort,
      handlerPort: running.handler?.port,
      exitPort: running.exit?.linkPort,
      ...(running.handler?.adminPort === undefined ? {} : { adminPort: running.handler.adminPort }),
    },
    'ready',
  );
  console.error(
    [
      '',
      `APFSDS is up. Local SOCKS5 and HTTP proxy: ${hostText}:${proxyPort}`,
      `  try:   curl -x socks5h://${hostText}:${proxyPort} https://example.com`,
      ...(running.handler?.adminPort === undefined
        ? []
        : [`  admin: http://${hostText}:${running.handler.adminPort} (bearer token in ${join(up.dataDir, MATERIAL_FILES.adminToken)})`]),
      `  keys:  ${up.dataDir} (reused on the next run)`,
      '  stop:  Ctrl-C',
      '',
    ].join('\n'),
  );

  await runUntilSignal({ close: () => stopAll(running, logger) }, logger);
  logger.info('stopped');
  return 0;
}

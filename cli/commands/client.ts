/**
 * `apfsds client --config FILE`: runs the local SOCKS5 + HTTP proxy until SIGINT or SIGTERM.
 * The config file may also come from APFSDS_CONFIG (or the role may be configured from
 * APFSDS_CLIENT__* variables alone).
 */
import process from 'node:process';
import { startClient } from '../../client/main.ts';
import { loadConfig } from '../../shared/config/index.ts';
import { initLogger } from '../../shared/log.ts';
import { fileConfigIO, parseCommandArgs, runUntilSignal } from '../role-command.ts';

/** One-line description for `apfsds --help`. */
export const summary = 'Run the local SOCKS5/HTTP proxy that tunnels app connections to the handlers';

const USAGE = `Usage: apfsds client [--config FILE]

Options:
  -c, --config FILE   client config (YAML or JSON); default $APFSDS_CONFIG
  -h, --help          show this help

Apps use the local proxy as socks5h://HOST:PORT (names resolved at the exit) or as an HTTP
proxy http://HOST:PORT (CONNECT and plain http:// requests), on config listen (default
127.0.0.1:1080). Stops cleanly on SIGINT or SIGTERM.`;

/** Runs the client; resolves with the process exit code once it has stopped. */
export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(argv, { config: { type: 'string', short: 'c' } }, USAGE);
  if (typeof args === 'number') return args;
  const warnings: string[] = [];
  const io = fileConfigIO(warnings);
  let config;
  try {
    config = await loadConfig('client', args.config, io);
  } catch (err) {
    console.error((err as Error).message);
    return 1;
  }
  const logger = initLogger({ role: 'client', level: config.log.level, format: config.log.format, env: process.env });
  for (const message of warnings) logger.warn(message);

  let client;
  try {
    client = await startClient(config, { logger });
  } catch (err) {
    logger.error({ err }, 'client failed to start');
    return 1;
  }
  const running = client;
  await runUntilSignal(running, logger);
  return 0;
}

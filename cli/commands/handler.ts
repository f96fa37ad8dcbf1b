/**
 * `apfsds handler --config FILE`: runs the handler role (also APFSDS_CONFIG) and its Raft member
 * (config raft.*). Logs a JSON "ready" line with the bound ports once listening, and stops
 * cleanly on SIGINT/SIGTERM; exits 1 when a fatal Raft failure stopped it.
 */
import process from 'node:process';
import { loadConfig } from '../../shared/config/index.ts';
import { initLogger } from '../../shared/log.ts';
import { startHandler } from '../../handler/main.ts';
import { fileConfigIO, parseCommandArgs, runUntilSignal } from '../role-command.ts';

/** One-line description for `apfsds --help`. */
export const summary = 'Run a handler: client sessions, exit links, admin API (--config FILE)';

const USAGE = `Usage: apfsds handler [--config FILE]

Options:
  -c, --config FILE   handler config (YAML or JSON, docs/configuration.md); default $APFSDS_CONFIG
  -h, --help          show this help

APFSDS_HANDLER__* variables override fields. Stops cleanly on SIGINT or SIGTERM; exits 1 if a
fatal Raft failure (storage) stopped the handler, so a supervisor restarts it.`;

/** Runs the handler; resolves with the process exit code once it has stopped. */
export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(argv, { config: { type: 'string', short: 'c' } }, USAGE);
  if (typeof args === 'number') return args;
  const warnings: string[] = [];
  let config;
  try {
    config = await loadConfig('handler', args.config, fileConfigIO(warnings));
  } catch (err) {
    console.error((err as Error).message);
    return 1;
  }
  const logger = initLogger({ role: 'handler', node: config.nodeId, level: config.log.level, format: config.log.format, env: process.env });
  for (const message of warnings) logger.warn(message);

  let handler;
  try {
    handler = await startHandler(config, { logger });
  } catch (err) {
    logger.error({ err }, 'handler failed to start');
    return 1;
  }
  // A fatal Raft failure closes the handler on its own: exit non-zero so a supervisor restarts it.
  const fatal = await Promise.race([runUntilSignal(handler, logger).then(() => null), handler.done]);
  return fatal === null ? 0 : 1;
}

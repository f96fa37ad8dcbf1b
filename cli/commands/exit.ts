/**
 * `apfsds exit --config FILE [--allow-egress CIDR ...]`: runs the exit role until SIGINT or
 * SIGTERM. The config file may also come from APFSDS_CONFIG; --allow-egress adds to
 * egress.allow (as APFSDS_EGRESS_ALLOW does), e.g. `--allow-egress 127.0.0.1/32` for local tests.
 */
import process from 'node:process';
import { loadConfig } from '../../shared/config/index.ts';
import { initLogger } from '../../shared/log.ts';
import { fileConfigIO, parseCommandArgs, runUntilSignal } from '../role-command.ts';
import { parseCidr } from '../../exit/egress/cidr.ts';
import { startExit } from '../../exit/main.ts';

/** One-line description for `apfsds --help`. */
export const summary = 'Run an exit: accept handler links (or dial them) and open the real connections';

const USAGE = `Usage: apfsds exit [--config FILE] [--allow-egress CIDR ...]

Options:
  -c, --config FILE         exit config (YAML or JSON); default $APFSDS_CONFIG
      --allow-egress CIDR   open a destination range the egress policy refuses by default
                            (repeatable; adds to egress.allow), e.g. 127.0.0.1/32
  -h, --help                show this help

Stops cleanly on SIGINT or SIGTERM (links get GOAWAY and may finish their streams).`;

/** Runs the exit; resolves with the process exit code once it has stopped. */
export async function run(argv: string[]): Promise<number> {
  const args = parseCommandArgs(argv, { config: { type: 'string', short: 'c' }, 'allow-egress': { type: 'string', multiple: true } }, USAGE);
  if (typeof args === 'number') return args;
  const warnings: string[] = [];
  const io = fileConfigIO(warnings);
  let config;
  try {
    config = await loadConfig('exit', args.config, io);
    const extra = (args['allow-egress'] ?? []).map((text, i) => parseCidr(text, `--allow-egress[${i}]`).text);
    config.egress.allow = [...config.egress.allow, ...extra];
  } catch (err) {
    console.error((err as Error).message);
    return 1;
  }
  const logger = initLogger({ role: 'exit', node: config.id, level: config.log.level, format: config.log.format, env: process.env });
  for (const message of warnings) logger.warn(message);

  let exit;
  try {
    exit = await startExit(config, { logger });
  } catch (err) {
    logger.error({ err }, 'exit failed to start');
    return 1;
  }
  const running = exit;
  await runUntilSignal(running, logger);
  return 0;
}

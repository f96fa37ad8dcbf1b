/**
 * `apfsds handler --config FILE`: runs the handler role (also APFSDS_CONFIG) and its Raft member
 * (config raft.*). Logs a JSON "ready" line with the bound ports once listening, and stops
 * cleanly on SIGINT/SIGTERM; exits 1 when a fatal Raft failure stopped it.
 */
import { readFile, stat } from 'node:fs/promises';
import { loadConfig, type ConfigIO } from '../../shared/config/index.ts';
import { createLogger } from '../../shared/log.ts';
import { onShutdownSignal } from '../../shared/runtime/process.ts';
import { startHandler } from '../../handler/main.ts';

export const summary = 'Run a handler: client sessions, exit links, admin API (--config FILE)';

const HELP = `Usage: apfsds handler [--config FILE]

Runs the handler role. The config file is YAML or JSON (docs/configuration.md); without
--config, APFSDS_CONFIG names it, and APFSDS_HANDLER__* variables override fields.`;

/** Parses `--config FILE` / `--config=FILE`; undefined for help, an Error for bad usage. */
export function parseHandlerArgs(argv: string[]): { config: string | undefined } | 'help' | Error {
  let config: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return 'help';
    if (arg === '--config' || arg === '-c') {
      const value = argv[++i];
      if (value === undefined) return new Error('--config needs a file path');
      config = value;
    } else if (arg.startsWith('--config=')) {
      config = arg.slice('--config='.length);
    } else {
      return new Error(`Unknown option ${arg}`);
    }
  }
  return { config };
}

function io(): ConfigIO {
  return {
    readText: (p) => readFile(p, 'utf8'),
    env: process.env,
    fileMode: async (p) => {
      try {
        return (await stat(p)).mode & 0o777;
      } catch {
        return undefined;
      }
    },
    warn: (m) => console.error(`warning: ${m}`),
  };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseHandlerArgs(argv);
  if (args === 'help') {
    console.log(HELP);
    return 0;
  }
  if (args instanceof Error) {
    console.error(`${args.message}\n\n${HELP}`);
    return 2;
  }
  const config = await loadConfig('handler', args.config, io());
  const logger = createLogger({ role: 'handler', node: config.nodeId, level: config.log.level, format: config.log.format, env: process.env });
  const handler = await startHandler(config, { logger });
  let stopSignals: () => void = () => {};
  const signalled = new Promise<void>((resolve) => {
    // Kept subscribed while closing, so a second signal exits at once.
    stopSignals = onShutdownSignal((signal) => {
      logger.info({ signal }, 'shutting down');
      void handler
        .close()
        .catch((err: unknown) => logger.error({ err }, 'shutdown failed'))
        .finally(resolve);
    });
  });
  // A fatal Raft failure (storage) closes the handler on its own: exit non-zero so a supervisor restarts it.
  const fatal = await Promise.race([signalled.then(() => null), handler.done]);
  stopSignals();
  return fatal === null ? 0 : 1;
}

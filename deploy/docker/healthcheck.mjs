#!/usr/bin/env node
// Container liveness probe (Dockerfile HEALTHCHECK): GET the running role's /health on
// loopback and exit 0 on a 2xx answer, 1 otherwise. Plain JavaScript with no imports beyond
// node:, so a probe every few seconds starts fast and needs nothing from node_modules.
//
// Which URL: $APFSDS_HEALTH_URL when set ("none" = always healthy, for roles without a status
// listener); otherwise the role is read from PID 1's command line (`node dist/cli/main.js <role>`,
// as the image runs it; the source entry cli/main.ts and the bin are recognised too) and
// the default port of that role's loopback listener is used (docs/configuration.md):
//   handler, up -> http://127.0.0.1:9090/health (admin listener)
//   exit        -> http://127.0.0.1:9091/health (status listener)
//   client      -> http://127.0.0.1:9092/health (status listener; enable status in the config)
//   anything else (keygen, --help) -> healthy, nothing to probe.
// A role whose port differs from the default needs APFSDS_HEALTH_URL.
import { readFileSync } from 'node:fs';

const DEFAULT_PORTS = { handler: 9090, up: 9090, exit: 9091, client: 9092 };
// Where the command line is read from; tests point it at a file.
const CMDLINE = process.env.APFSDS_HEALTH_CMDLINE || '/proc/1/cmdline';
const TIMEOUT_MS = Number(process.env.APFSDS_HEALTH_TIMEOUT_MS) > 0 ? Number(process.env.APFSDS_HEALTH_TIMEOUT_MS) : 4000;

/** The subcommand after the CLI entry (dist/cli/main.js, cli/main.ts or the bin) in a NUL-separated command line. */
function roleFromCmdline(path) {
  let argv;
  try {
    argv = readFileSync(path, 'utf8').split('\0').filter((a) => a !== '');
  } catch {
    return undefined;
  }
  const at = argv.findIndex((a) => /(^|\/)cli\/(main\.[jt]s|bin\.mjs)$/.test(a) || /(^|\/)apfsds$/.test(a));
  return at < 0 ? undefined : argv[at + 1];
}

function target() {
  const explicit = process.env.APFSDS_HEALTH_URL;
  if (explicit !== undefined && explicit !== '') return explicit === 'none' ? null : explicit;
  const role = roleFromCmdline(CMDLINE);
  const port = role === undefined ? undefined : DEFAULT_PORTS[role];
  return port === undefined ? null : `http://127.0.0.1:${port}/health`;
}

const url = target();
if (url === null) {
  console.log('healthy: no status listener to probe for this command');
  process.exit(0);
}
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'manual' });
  await res.body?.cancel();
  if (res.status >= 200 && res.status < 300) {
    console.log(`healthy: ${url} answered ${res.status}`);
    process.exit(0);
  }
  console.log(`unhealthy: ${url} answered ${res.status}`);
} catch (err) {
  const cause = err?.cause?.code ?? err?.name ?? 'error';
  console.log(`unhealthy: ${url} did not answer (${cause})`);
}
process.exit(1);

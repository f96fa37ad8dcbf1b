/**
 * Deterministic Raft simulation runner.
 *
 *   npm run sim -- --seeds N [--from F] [--chaos-ms M]   run seeds F..F+N-1 (default F = 1)
 *   npm run sim -- --seed S [--verbose]                  run one seed; --verbose prints its trace
 *   add --lying-disks to any of them: fsync does nothing (shows what a durability bug looks like)
 *
 * A failing seed prints itself and the command that replays it; the same seed always produces
 * the same trace (its hash is printed and checked by re-running the seed).
 */
import { runSimulation, type SimResult } from '../test/handler/raft/sim/simulation.ts';

interface Args {
  seeds: number;
  from: number;
  seed: number | null;
  verbose: boolean;
  chaosMs: number | undefined;
  lyingDisks: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { seeds: 100, from: 1, seed: null, verbose: false, chaosMs: undefined, lyingDisks: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (): number => {
      const v = Number(argv[++i]);
      if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${a} expects a non-negative integer, got ${argv[i]}`);
      return v;
    };
    if (a === '--seeds') args.seeds = num();
    else if (a === '--from') args.from = num();
    else if (a === '--seed') args.seed = num();
    else if (a === '--chaos-ms') args.chaosMs = num();
    else if (a === '--verbose' || a === '-v') args.verbose = true;
    else if (a === '--lying-disks') args.lyingDisks = true;
    else if (a === '--help' || a === '-h') {
      console.log('usage: npm run sim -- --seeds N [--from F] [--chaos-ms M] | --seed S [--verbose]  [--lying-disks]');
      process.exit(0);
    } else throw new RangeError(`Unknown argument ${a}`);
  }
  return args;
}

function summary(r: SimResult): string {
  const s = r.stats;
  return (
    `seed ${r.seed}: ${r.ok ? 'ok' : 'FAIL'} trace=${r.traceHash} voters=${s.voters} events=${s.events} ` +
    `msgs=${s.messages} dropped=${s.dropped} crashes=${s.crashes} torn=${s.tornWrites} conf=${s.confChanges} ` +
    `transfers=${s.transfers} snapshots=${s.snapshotsInstalled} leaders=${s.leaderElections} ` +
    `ops=${s.opsCompleted}+${s.opsUnknown}? committed=${s.committed} recovery=${s.recoveryMs}ms`
  );
}

function replayHint(seed: number, args: Args): string {
  const chaos = args.chaosMs === undefined ? '' : ` --chaos-ms ${args.chaosMs}`;
  return `npm run sim -- --seed ${seed}${chaos}${args.lyingDisks ? ' --lying-disks' : ''} --verbose`;
}

function main(): number {
  const args = parseArgs(process.argv.slice(2));
  const base = { lyingDisks: args.lyingDisks, ...(args.chaosMs === undefined ? {} : { chaosMs: args.chaosMs }) };
  if (args.seed !== null) {
    const r = runSimulation({ ...base, seed: args.seed, verbose: args.verbose });
    if (args.verbose) for (const line of r.trace) console.log(line);
    console.log(summary(r));
    if (!r.ok) {
      console.log(`failure: ${r.failure}`);
      if (!args.verbose) console.log(`replay: ${replayHint(r.seed, args)}`);
    }
    return r.ok ? 0 : 1;
  }
  const started = performance.now();
  const failed: SimResult[] = [];
  let events = 0;
  for (let seed = args.from; seed < args.from + args.seeds; seed++) {
    const r = runSimulation({ ...base, seed });
    events += r.stats.events;
    if (!r.ok) {
      failed.push(r);
      console.log(`FAIL seed ${seed}: ${r.failure?.split('\n')[0]}`);
      const again = runSimulation({ ...base, seed });
      const same = again.traceHash === r.traceHash && again.failure === r.failure;
      console.log(`  replay: ${replayHint(seed, args)} (re-run ${same ? 'identical' : 'DIFFERENT: nondeterminism!'})`);
    }
  }
  const secs = (performance.now() - started) / 1000;
  console.log(
    `${args.seeds - failed.length}/${args.seeds} seeds passed (${args.from}..${args.from + args.seeds - 1}) ` +
      `in ${secs.toFixed(1)} s, ${(events / secs / 1000).toFixed(0)}k events/s`,
  );
  if (failed.length > 0) console.log(`failing seeds: ${failed.map((r) => r.seed).join(' ')}`);
  return failed.length === 0 ? 0 : 1;
}

process.exitCode = main();

// Fuzzes the frame decoders: `npm run fuzz -- [--count N] [--seed S]`. Case i runs with seed
// S + i; a failure prints its own seed, so `--seed <it> --count 1` replays exactly that case.
import { runFuzz } from '../test/shared/protocol/fuzzer.ts';

function usage(message: string): never {
  console.error(`${message}\nusage: npm run fuzz -- [--count N] [--seed S]`);
  process.exit(2);
}

function parseArgs(argv: string[]): { count: number; seed: number } {
  let count = 100_000;
  let seed = crypto.getRandomValues(new Uint32Array(1))[0]!;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.split('=', 2) as [string, string | undefined];
    const value = inline ?? argv[++i];
    if (value === undefined) usage(`missing value for ${name}`);
    const n = Number(value);
    if (name === '--count') {
      if (!Number.isSafeInteger(n) || n < 1) usage(`--count must be a positive integer, got ${value}`);
      count = n;
    } else if (name === '--seed') {
      if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) usage(`--seed must be an integer 0-4294967295, got ${value}`);
      seed = n;
    } else {
      usage(`unknown option ${arg}`);
    }
  }
  return { count, seed };
}

const { count, seed } = parseArgs(process.argv.slice(2));
console.log(`fuzzing frame decoders: ${count} cases from seed ${seed}`);
const started = performance.now();
const report = runFuzz(seed, count, (done) => {
  if (done % 50_000 === 0) console.log(`  ${done} cases, ${((performance.now() - started) / 1000).toFixed(1)} s`);
});
const seconds = ((performance.now() - started) / 1000).toFixed(1);
if (report.failure !== undefined) {
  console.error(`FAIL after ${report.cases} cases (${seconds} s): seed ${report.failure.seed}: ${report.failure.message}`);
  console.error(`input: ${report.failure.inputHex}`);
  console.error(`replay: npm run fuzz -- --seed ${report.failure.seed} --count 1`);
  process.exit(1);
}
console.log(`ok: ${report.cases} cases in ${seconds} s; ${report.clean} decoded cleanly (${report.frames} frames)`);
for (const [code, n] of Object.entries(report.errors).sort()) console.log(`  ${code}: ${n}`);

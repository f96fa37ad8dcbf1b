// 100,000 random and mutated inputs through the frame decoders (properties: fuzzer.ts). Runs in
// CI on Node and Deno with a fixed seed; `npm run fuzz -- --count N --seed S` explores further.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../../shared/errors.ts';
import { runFuzz } from './fuzzer.ts';

const SEED = 0x0a9f_5d50;
const COUNT = 100_000;

it(`no exception escapes, nothing hangs and buffering stays bounded over ${COUNT} fuzzed inputs`, () => {
  const report = runFuzz(SEED, COUNT);
  assert.equal(
    report.failure,
    undefined,
    report.failure && `seed ${report.failure.seed}: ${report.failure.message} (replay: npm run fuzz -- --seed ${report.failure.seed} --count 1)`,
  );
  assert.equal(report.cases, COUNT);
  // The mutations reach every refusal, and a fair share of inputs still decode.
  for (const code of [
    ErrorCode.BAD_FRAME,
    ErrorCode.UNKNOWN_FRAME_TYPE,
    ErrorCode.FRAME_TOO_LARGE,
    ErrorCode.TRUNCATED,
    ErrorCode.BUFFER_LIMIT,
    ErrorCode.HANDSHAKE,
  ]) {
    assert.ok((report.errors[code] ?? 0) > 100, `${code} seen ${report.errors[code] ?? 0} times`);
  }
  assert.ok(report.clean > COUNT / 20, `only ${report.clean} clean inputs`);
});

// The frame-decoder fuzzer, shared by test/shared/protocol/fuzz.test.ts (CI, both runtimes) and
// scripts/fuzz.ts (`npm run fuzz -- --count N --seed S`). Case i of a run uses seed S + i, so a
// failing case replays alone with `--seed <its seed> --count 1`.
//
// Inputs: random bytes, and mutations of valid encodings (bit flips, byte sets, truncation,
// splicing, deletion, duplication, and edits of the type, flags, length and stream id fields).
// Properties checked on every input:
// - nothing throws out of FrameDecoder (push/next/end); decodeFrames and decodeHello throw only
//   errors carrying a stable code;
// - every loop is bounded: the decoder yields at most one frame per 8 input bytes;
// - bufferedBytes never exceeds maxBufferedBytes;
// - the incremental decoder agrees with decodeFrames (same frames, or the same error code);
// - whatever decodes re-encodes to the same length and decodes to the same frames again.
import { isDeepStrictEqual } from 'node:util';
import { ErrorCode } from '../../../shared/errors.ts';
import { Prng } from '../../support/prng.ts';
import {
  decodeFrames,
  decodeHello,
  encodeFrame,
  encodeFrames,
  encodeHello,
  FRAME_HEADER_LENGTH,
  FrameDecoder,
  MAX_FRAME_LENGTH,
  type Frame,
  type Hello,
} from '../../../shared/protocol/index.ts';
import { randomFrame } from './arbitrary.ts';

const CODES = new Set<string>(Object.values(ErrorCode));
const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];

/** What a fuzz run saw. */
export interface FuzzReport {
  cases: number;
  /** Frames decoded across all inputs. */
  frames: number;
  /** Inputs that decoded cleanly. */
  clean: number;
  /** Refusals by error code (frame decoder and hello decoder). */
  errors: Record<string, number>;
  /** The first failing case, if any; the run stops there. */
  failure?: { seed: number; message: string; inputHex: string };
}

function hex(b: Uint8Array): string {
  return Array.from(b.subarray(0, 256), (x) => x.toString(16).padStart(2, '0')).join('') + (b.length > 256 ? '...' : '');
}

/** A valid message and the offsets of its frame headers. */
function validMessage(rng: Prng): { bytes: Uint8Array; headers: number[] } {
  const frames: Frame[] = [];
  const n = rng.int(1, 6);
  for (let i = 0; i < n; i++) frames.push(randomFrame(rng, rng.chance(0.8) ? 64 : 600));
  const headers: number[] = [];
  let o = 0;
  const parts = frames.map((f) => {
    const b = encodeFrame(f);
    headers.push(o);
    o += b.length;
    return b;
  });
  const bytes = new Uint8Array(o);
  parts.forEach((p, i) => bytes.set(p, headers[i]!));
  return { bytes, headers };
}

function mutate(rng: Prng, input: Uint8Array, headers: number[]): Uint8Array {
  let b = input;
  const rounds = rng.int(1, 4);
  for (let r = 0; r < rounds; r++) {
    const pos = b.length === 0 ? 0 : rng.int(0, b.length - 1);
    const h = headers.length > 0 ? rng.pick(headers) : 0;
    switch (rng.int(0, 9)) {
      case 0: // bit flip
        if (b.length > 0) b[pos] = b[pos]! ^ (1 << rng.int(0, 7));
        break;
      case 1: // interesting byte
        if (b.length > 0) b[pos] = rng.pick(INTERESTING);
        break;
      case 2: // truncate
        b = b.slice(0, rng.int(0, b.length));
        break;
      case 3: {
        // splice in a slice of another valid message
        const other = validMessage(rng).bytes;
        const from = rng.int(0, other.length);
        const piece = other.subarray(from, rng.int(from, other.length));
        const out = new Uint8Array(b.length + piece.length);
        out.set(b.subarray(0, pos));
        out.set(piece, pos);
        out.set(b.subarray(pos), pos + piece.length);
        b = out;
        break;
      }
      case 4: {
        // delete a range
        const end = rng.int(pos, Math.min(b.length, pos + 16));
        const out = new Uint8Array(b.length - (end - pos));
        out.set(b.subarray(0, pos));
        out.set(b.subarray(end), pos);
        b = out;
        break;
      }
      case 5: {
        // duplicate a range in place
        const end = rng.int(pos, Math.min(b.length, pos + 32));
        const out = new Uint8Array(b.length + (end - pos));
        out.set(b.subarray(0, end));
        out.set(b.subarray(pos), end);
        b = out;
        break;
      }
      case 6: // length field edit
        if (h + 4 <= b.length) {
          const old = (b[h + 2]! << 8) | b[h + 3]!;
          const len = rng.pick([0, 1, 0xffff, old + 1, Math.max(0, old - 1), rng.int(0, 0xffff), MAX_FRAME_LENGTH, MAX_FRAME_LENGTH + 1]) & 0xffff;
          b[h + 2] = len >>> 8;
          b[h + 3] = len & 0xff;
        }
        break;
      case 7: // type edit
        if (h < b.length) b[h] = rng.int(0, 15);
        break;
      case 8: // flags edit
        if (h + 1 < b.length) b[h + 1] = rng.pick([0, 1, 2, 0x80, rng.int(0, 255)]);
        break;
      default: // stream id edit
        if (h + 8 <= b.length) {
          const id = rng.pick([0, 1, 2, 0xffffffff, rng.u32()]);
          b[h + 4] = id >>> 24;
          b[h + 5] = (id >>> 16) & 0xff;
          b[h + 6] = (id >>> 8) & 0xff;
          b[h + 7] = id & 0xff;
        }
        break;
    }
  }
  return b;
}

function codeOf(err: unknown): string {
  const code = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  if (typeof code !== 'string' || !CODES.has(code)) {
    throw new Error(`Uncoded error escaped: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  }
  return code;
}

function fail(message: string): never {
  throw new Error(message);
}

/** Runs a FrameDecoder call, which must never throw. */
function guarded<T>(call: () => T): T {
  try {
    return call();
  } catch (err) {
    return fail(`FrameDecoder threw: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  }
}

function randomHello(rng: Prng): Hello {
  const hello: Hello = {
    role: rng.pick([1, 2, 3] as const),
    paddingPolicy: rng.pick([0, 1, 2] as const),
    capabilities: rng.u32(),
    timestamp: rng.int(0, 2 ** 31) * 1000,
    maxFrameLength: rng.int(1024, MAX_FRAME_LENGTH),
    streamWindow: rng.int(0, 0x7fffffff),
    sessionWindow: rng.int(0, 0x7fffffff),
    maxStreams: rng.u32(),
    nodeId: 'n'.repeat(rng.int(0, 64)),
    region: rng.chance(0.5) ? '' : 'eu-\u00e9',
  };
  if (rng.chance(0.5)) hello.padding = rng.int(1, 40);
  return hello;
}

function fuzzHello(rng: Prng, report: FuzzReport): void {
  const valid = encodeHello(randomHello(rng));
  const input = rng.chance(0.1) ? valid : mutate(rng, valid.slice(), []);
  let decoded: Hello;
  try {
    decoded = decodeHello(input);
  } catch (err) {
    const code = codeOf(err);
    report.errors[code] = (report.errors[code] ?? 0) + 1;
    return;
  }
  report.clean++;
  if (encodeHello(decoded).length !== input.length) fail('Hello re-encodes to a different length');
}

/** Runs one case; throws (plain Error) when a property is violated. */
export function fuzzCase(seed: number, report: FuzzReport): void {
  const rng = new Prng(seed);
  if (rng.chance(0.05)) {
    fuzzHello(rng, report);
    return;
  }
  let input: Uint8Array;
  const mode = rng.float();
  if (mode < 0.08) {
    input = rng.bytes(rng.int(0, 200));
  } else {
    const { bytes, headers } = validMessage(rng);
    input = mode < 0.2 ? bytes : mutate(rng, bytes, headers);
  }
  const maxFrameLength = rng.pick([16, 64, 1024, 16384, MAX_FRAME_LENGTH]);
  const maxBufferedBytes = FRAME_HEADER_LENGTH + maxFrameLength + (rng.chance(0.3) ? 0 : rng.int(0, 4096));

  // One-shot decoder.
  let oneShot: Frame[] | undefined;
  let oneShotCode: string | undefined;
  try {
    oneShot = decodeFrames(input, maxFrameLength);
  } catch (err) {
    oneShotCode = codeOf(err);
  }

  // Incremental decoder, random chunking, drained after every push as an owner must.
  const d = new FrameDecoder({ maxFrameLength, maxBufferedBytes });
  const got: Frame[] = [];
  const maxCalls = Math.floor(input.length / FRAME_HEADER_LENGTH) + 2 * input.length + 4;
  let calls = 0;
  let code: string | undefined;
  for (let o = 0; o < input.length; ) {
    const n = rng.chance(0.7) ? rng.int(1, 16) : rng.int(1, input.length);
    const chunk = input.subarray(o, o + n);
    const accepted = guarded(() => d.push(chunk));
    o += n;
    if (d.bufferedBytes > maxBufferedBytes) fail(`Buffered ${d.bufferedBytes} bytes, limit ${maxBufferedBytes}`);
    if (!accepted) break;
    for (let f = guarded(() => d.next()); f !== undefined; f = guarded(() => d.next())) {
      got.push(f);
      if (got.length > input.length / FRAME_HEADER_LENGTH) fail('Decoder produced more frames than the input can hold');
      if (++calls > maxCalls) fail('Decoder did not converge');
    }
    if (++calls > maxCalls) fail('Decoder did not converge');
    if (d.bufferedBytes > maxBufferedBytes) fail(`Buffered ${d.bufferedBytes} bytes, limit ${maxBufferedBytes}`);
  }
  const err = d.error ?? guarded(() => d.end());
  if (err !== undefined) code = codeOf(err);

  report.frames += got.length;
  if (code === ErrorCode.BUFFER_LIMIT) {
    // A chunk larger than the room left: the one-shot decoder has no such limit to compare.
    report.errors[code] = (report.errors[code] ?? 0) + 1;
    return;
  }
  if (code !== oneShotCode) fail(`Incremental decoder says ${code ?? 'ok'}, decodeFrames says ${oneShotCode ?? 'ok'}`);
  if (code !== undefined) {
    report.errors[code] = (report.errors[code] ?? 0) + 1;
    return;
  }
  report.clean++;
  if (!isDeepStrictEqual(got, oneShot)) fail('Incremental and one-shot decoders disagree on the frames');
  const again = encodeFrames(got, maxFrameLength);
  if (again.length !== input.length) fail(`Decoded frames re-encode to ${again.length} bytes, input was ${input.length}`);
  if (!isDeepStrictEqual(decodeFrames(again, maxFrameLength), got)) fail('Re-encoded frames decode differently');
}

/** Runs cases `seed`, `seed + 1`, ... `seed + count - 1`; stops at the first failure. */
export function runFuzz(seed: number, count: number, onProgress?: (done: number) => void): FuzzReport {
  const report: FuzzReport = { cases: 0, frames: 0, clean: 0, errors: {} };
  for (let i = 0; i < count; i++) {
    const caseSeed = (seed + i) >>> 0;
    try {
      fuzzCase(caseSeed, report);
    } catch (err) {
      report.failure = {
        seed: caseSeed,
        message: err instanceof Error ? err.message : String(err),
        inputHex: replayInput(caseSeed),
      };
      return report;
    }
    report.cases++;
    if (onProgress !== undefined && (i + 1) % 10000 === 0) onProgress(i + 1);
  }
  return report;
}

/** Hex of the frame input case `seed` builds (for failure reports), best effort. */
function replayInput(seed: number): string {
  try {
    const rng = new Prng(seed);
    if (rng.chance(0.05)) return '(hello case)';
    const mode = rng.float();
    if (mode < 0.08) return hex(rng.bytes(rng.int(0, 200)));
    const { bytes, headers } = validMessage(rng);
    return hex(mode < 0.2 ? bytes : mutate(rng, bytes, headers));
  } catch {
    return '(unavailable)';
  }
}

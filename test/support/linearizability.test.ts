import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  analyzeOperations,
  checkOperations,
  describeReport,
  kvModel,
  UNKNOWN,
} from './linearizability/index.ts';
import type { KvInput, KvOutput, Model, Operation, Unknown } from './linearizability/index.ts';
import { Prng } from './prng.ts';

type KvOp = Operation<KvInput, KvOutput>;
const INF = Infinity;

const get = (key: string, call: number, ret: number, output: KvOutput | Unknown, clientId?: number): KvOp => ({
  input: { op: 'get', key },
  call,
  return: ret,
  output,
  ...(clientId === undefined ? {} : { clientId }),
});
const put = (key: string, value: string, call: number, ret: number): KvOp => ({
  input: { op: 'put', key, value },
  call,
  return: ret,
  output: undefined,
});
const append = (key: string, value: string, call: number, ret: number): KvOp => ({
  input: { op: 'append', key, value },
  call,
  return: ret,
  output: undefined,
});

function expectVerdict(history: KvOp[], expected: 'ok' | 'illegal'): void {
  const report = analyzeOperations(kvModel, history);
  assert.equal(report.result, expected, describeReport(kvModel, report));
}

test('an empty history and a sequential history are linearizable', () => {
  expectVerdict([], 'ok');
  expectVerdict(
    [get('x', 0, 1, undefined), put('x', 'a', 2, 3), get('x', 4, 5, 'a'), append('x', 'b', 6, 7), get('x', 8, 9, 'ab')],
    'ok',
  );
});

test('a read overlapping a write may see either value, but not go back once it saw the new one', () => {
  expectVerdict([put('x', '1', 0, 10), get('x', 2, 3, undefined), get('x', 5, 6, '1')], 'ok');
  expectVerdict([put('x', '1', 0, 10), get('x', 2, 3, '1'), get('x', 5, 6, '1')], 'ok');
  expectVerdict([put('x', '1', 0, 10), get('x', 2, 3, '1'), get('x', 5, 6, undefined)], 'illegal');
  // Two concurrent reads are not ordered against each other.
  expectVerdict([put('x', '1', 0, 10), get('x', 2, 8, '1'), get('x', 3, 7, undefined)], 'ok');
});

test('concurrent appends may land in either order, once each', () => {
  const writes = [append('x', 'a', 0, 10), append('x', 'b', 1, 9)];
  expectVerdict([...writes, get('x', 11, 12, 'ab')], 'ok');
  expectVerdict([...writes, get('x', 11, 12, 'ba')], 'ok');
  expectVerdict([...writes, get('x', 11, 12, 'aab')], 'illegal');
});

test('a timed-out write may have taken effect, at any time after its call', () => {
  expectVerdict([put('x', '1', 0, INF), get('x', 5, 6, '1')], 'ok');
  expectVerdict([put('x', '1', 0, INF), get('x', 5, 6, undefined)], 'ok');
  expectVerdict([put('x', '1', 0, INF), get('x', 5, 6, undefined), get('x', 7, 8, '1')], 'ok');
  expectVerdict([get('x', 0, 1, '1'), put('x', '1', 2, INF)], 'illegal');
  expectVerdict([put('x', '1', 0, INF), get('x', 5, 6, '1'), get('x', 7, 8, undefined)], 'illegal');
});

test('the output recorded for a timed-out operation is ignored', () => {
  expectVerdict([put('x', '1', 0, 1), get('x', 2, INF, 'garbage')], 'ok');
  expectVerdict([put('x', '1', 0, 1), get('x', 2, 3, UNKNOWN)], 'ok');
});

test('a stale read after a completed write is not linearizable', () => {
  expectVerdict([put('x', '1', 0, 1), put('x', '2', 2, 3), get('x', 4, 5, '1')], 'illegal');
  expectVerdict([put('x', '1', 0, 1), get('x', 2, 3, undefined)], 'illegal');
});

test('a lost write is not linearizable', () => {
  expectVerdict([append('x', 'a', 0, 1), append('x', 'b', 2, 3), get('x', 4, 5, 'b')], 'illegal');
  expectVerdict([append('x', 'a', 0, 5), append('x', 'b', 1, 6), get('x', 7, 8, 'b')], 'illegal');
});

test('appends observed in the opposite of their real-time order are not linearizable', () => {
  expectVerdict([append('x', 'a', 0, 1), append('x', 'b', 2, 3), get('x', 4, 5, 'ba')], 'illegal');
});

test('operations that touch in time count as concurrent', () => {
  expectVerdict([put('x', '1', 0, 5), get('x', 5, 6, undefined)], 'ok');
  expectVerdict([put('x', '1', 0, 5), get('x', 6, 7, undefined)], 'illegal');
});

test('keys are checked independently and the report names the failing partition', () => {
  const history = [
    put('x', '1', 0, 1),
    put('y', '1', 0, 1),
    get('y', 2, 3, '1'),
    get('x', 2, 3, '1', 7),
    put('y', '2', 4, 5),
    get('y', 6, 7, '1', 8),
  ];
  const report = analyzeOperations(kvModel, history);
  assert.equal(report.result, 'illegal');
  const failing = report.partitions.find((p) => p.result === 'illegal')!;
  assert.ok(failing.operations.every((op) => op.input.key === 'y'));
  assert.deepEqual(
    failing.linearization.map((op) => op.input.op),
    ['put', 'get', 'put'],
    'longest prefix stops before the stale read',
  );
  assert.match(describeReport(kvModel, report), /client 8 \[6, 7\] get\(y\) -> "1"/);
});

test('a search budget turns an expensive check into unknown', () => {
  const history: KvOp[] = [];
  for (let i = 0; i < 12; i++) history.push(append('x', String(i), 0, 100));
  history.push(get('x', 101, 102, 'nope'));
  // 12 concurrent appends leave 12! distinct strings to try before the read can be refused.
  assert.equal(checkOperations(kvModel, history, { maxSteps: 50 }), 'unknown');
  assert.equal(checkOperations(kvModel, history, { timeoutMs: 1 }), 'unknown');
});

test('malformed operations are rejected', () => {
  assert.throws(() => checkOperations(kvModel, [put('x', '1', 5, 4)]), RangeError);
  assert.throws(() => checkOperations(kvModel, [put('x', '1', INF, INF)]), RangeError);
  assert.throws(() => checkOperations(kvModel, [put('x', '1', 0, NaN)]), RangeError);
});

test('a model with object states uses its key for the cache', () => {
  // A counter with increments and reads, state as an object: without `key` the cache would
  // compare object identity and never hit.
  type In = { op: 'inc' } | { op: 'read' };
  const counter: Model<{ n: number }, In, number | undefined> = {
    init: () => ({ n: 0 }),
    step: (s, input, output) =>
      input.op === 'inc' ? [true, { n: s.n + 1 }] : [output === UNKNOWN || output === s.n, s],
    key: (s) => s.n,
  };
  const incs: Operation<In, number | undefined>[] = Array.from({ length: 14 }, () => ({
    input: { op: 'inc' },
    call: 0,
    return: 10,
    output: undefined,
  }));
  const read = (v: number): Operation<In, number | undefined> => ({ input: { op: 'read' }, call: 11, return: 12, output: v });
  const ok = analyzeOperations(counter, [...incs, read(14)]);
  assert.equal(ok.result, 'ok');
  const bad = analyzeOperations(counter, [...incs, read(15)], { maxSteps: 1_000_000 });
  assert.equal(bad.result, 'illegal');
  // 2^14 subsets of increments, each with one counter value: the cache keeps it polynomial.
  assert.ok(bad.partitions[0]!.steps < 1_000_000, `steps: ${bad.partitions[0]!.steps}`);
});

// ---- Cross-check against brute force on small random histories --------------------------

/** Seeded floats in [0, 1) (test/support/prng.ts), so a failing run replays from its seed. */
function prng(seed: number): () => number {
  const p = new Prng(seed);
  return () => p.float();
}

/** Tries every order consistent with real time (a before b when a returns before b's call). */
function bruteForce(history: KvOp[]): boolean {
  const n = history.length;
  const used = new Array<boolean>(n).fill(false);
  const search = (state: string | undefined, depth: number): boolean => {
    if (depth === n) return true;
    for (let i = 0; i < n; i++) {
      if (used[i]) continue;
      const op = history[i]!;
      // Every unplaced op that returned before this call must come first.
      if (history.some((o, j) => !used[j] && j !== i && o.return < op.call)) continue;
      const output = op.return === INF ? UNKNOWN : op.output;
      const [ok, next] = kvModel.step(state, op.input, output);
      if (!ok) continue;
      used[i] = true;
      const found = search(next, depth + 1);
      used[i] = false;
      if (found) return true;
    }
    return false;
  };
  return search(undefined, 0);
}

test('verdicts agree with brute force on 400 small random histories', () => {
  const rand = prng(20240611);
  const values = [undefined, 'a', 'b', 'ab', 'ba'];
  let illegal = 0;
  for (let round = 0; round < 400; round++) {
    const n = 2 + Math.floor(rand() * 5);
    const history: KvOp[] = [];
    for (let i = 0; i < n; i++) {
      const call = Math.floor(rand() * 10);
      const ret = rand() < 0.15 ? INF : call + Math.floor(rand() * 6);
      const r = rand();
      if (r < 0.45) history.push(get('k', call, ret, values[Math.floor(rand() * values.length)]));
      else if (r < 0.7) history.push(put('k', rand() < 0.5 ? 'a' : 'b', call, ret));
      else history.push(append('k', rand() < 0.5 ? 'a' : 'b', call, ret));
    }
    const expected = bruteForce(history) ? 'ok' : 'illegal';
    if (expected === 'illegal') illegal++;
    assert.equal(checkOperations(kvModel, history), expected, `round ${round}: ${JSON.stringify(history)}`);
  }
  assert.ok(illegal > 50 && illegal < 350, `a useful mix of verdicts: ${illegal} illegal of 400`);
});

// ---- A large history from a real atomic store ---------------------------------------------

/**
 * Simulates clients against an atomic store: each operation takes effect at one instant
 * between its call and return, so the history is linearizable by construction. Some
 * operations time out (return +Infinity) and did or did not take effect.
 */
function atomicStoreHistory(seed: number, clients: number, opsPerClient: number, keys: number): KvOp[] {
  const rand = prng(seed);
  type Pending = { op: KvOp; effectAt: number; applies: boolean };
  const pending: Pending[] = [];
  for (let c = 0; c < clients; c++) {
    let t = Math.floor(rand() * 5);
    for (let i = 0; i < opsPerClient; i++) {
      const key = `k${Math.floor(rand() * keys)}`;
      const call = t;
      const duration = 1 + Math.floor(rand() * 20);
      const effectAt = call + rand() * duration;
      const timedOut = rand() < 0.03;
      const r = rand();
      const input: KvInput =
        r < 0.5
          ? { op: 'get', key }
          : r < 0.75
            ? { op: 'put', key, value: `${c}.${i}` }
            : { op: 'append', key, value: `+${c}.${i}` };
      const op: KvOp = { clientId: c, input, call, return: timedOut ? INF : call + duration, output: undefined };
      pending.push({ op, effectAt, applies: !timedOut || rand() < 0.5 });
      t = call + duration + Math.floor(rand() * 3);
    }
  }
  const store = new Map<string, string>();
  for (const p of [...pending].sort((a, b) => a.effectAt - b.effectAt)) {
    if (!p.applies) continue;
    const input = p.op.input;
    if (input.op === 'get') p.op.output = store.get(input.key);
    else if (input.op === 'put') store.set(input.key, input.value);
    else store.set(input.key, (store.get(input.key) ?? '') + input.value);
  }
  return pending.map((p) => p.op);
}

test('a 4,000-operation history from a real atomic store with timeouts is linearizable', () => {
  const history = atomicStoreHistory(7, 10, 400, 5);
  const report = analyzeOperations(kvModel, history, { timeoutMs: 60_000 });
  assert.equal(report.result, 'ok', describeReport(kvModel, report));
  assert.equal(report.partitions.length, 5);
  assert.equal(
    report.partitions.reduce((n, p) => n + p.linearization.length, 0),
    history.length,
    'every operation appears in the linearization',
  );
});

test('a large history with one read made stale is caught', () => {
  const history = atomicStoreHistory(11, 8, 100, 3);
  // Put P, then put Q called after P returned, then a read called after Q returned: the read
  // answering P's value is stale for sure (put values are unique, so nothing else makes it).
  const done = (op: KvOp) => op.return !== INF;
  const isPut = (op: KvOp) => op.input.op === 'put' && done(op);
  let mutated: KvOp[] | null = null;
  for (const read of [...history].reverse()) {
    if (read.input.op !== 'get' || !done(read)) continue;
    const key = read.input.key;
    const q = history.find((op) => isPut(op) && op.input.key === key && op.return < read.call);
    const p = q && history.find((op) => isPut(op) && op.input.key === key && op.return < q.call);
    if (p === undefined || p.input.op !== 'put') continue;
    const stale: KvOp = { ...read, output: p.input.value };
    mutated = history.map((op) => (op === read ? stale : op));
    break;
  }
  assert.ok(mutated, 'the seed gives a key overwritten before a later read');
  assert.equal(checkOperations(kvModel, history, { timeoutMs: 60_000 }), 'ok');
  assert.equal(checkOperations(kvModel, mutated, { timeoutMs: 60_000 }), 'illegal');
});

/**
 * A key-value store model: get, put and append on string values, one partition per key (the
 * keys of a linearizable store are independent objects, and linearizability is compositional:
 * Herlihy & Wing 1990, theorem 1). A get of a missing key outputs undefined; put and append
 * output nothing (undefined) and always succeed.
 */
import { UNKNOWN } from './types.ts';
import type { Model, Operation, Unknown } from './types.ts';

/** An operation on the store. */
export type KvInput =
  | { op: 'get'; key: string }
  | { op: 'put'; key: string; value: string }
  | { op: 'append'; key: string; value: string };

/** What a get returned (undefined for a missing key); undefined for put and append. */
export type KvOutput = string | undefined;

/** The state of one key: its value, or undefined when it was never written. */
export type KvState = string | undefined;

function byKey(history: readonly Operation<KvInput, KvOutput>[]): Operation<KvInput, KvOutput>[][] {
  const parts = new Map<string, Operation<KvInput, KvOutput>[]>();
  for (const op of history) {
    const part = parts.get(op.input.key);
    if (part === undefined) parts.set(op.input.key, [op]);
    else part.push(op);
  }
  return [...parts.values()];
}

/** The key-value model for `checkOperations`. */
export const kvModel: Model<KvState, KvInput, KvOutput> = {
  init: () => undefined,
  step(state: KvState, input: KvInput, output: KvOutput | Unknown): [boolean, KvState] {
    switch (input.op) {
      case 'get':
        return [output === UNKNOWN || output === state, state];
      case 'put':
        return [true, input.value];
      case 'append':
        return [true, (state ?? '') + input.value];
    }
  },
  partition: byKey,
  describe(input: KvInput, output: KvOutput | Unknown): string {
    const out = output === UNKNOWN ? '?' : JSON.stringify(output);
    return input.op === 'get' ? `get(${input.key}) -> ${out}` : `${input.op}(${input.key}, ${JSON.stringify(input.value)})`;
  },
};

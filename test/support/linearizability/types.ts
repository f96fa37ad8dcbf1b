/**
 * Types of the linearizability checker (after anishathalye/porcupine): a history of
 * operations with call and return times, and a sequential model of the object under test.
 */

/**
 * The output of an operation whose outcome the client never learned (it timed out, or the
 * client crashed). The checker passes it to `Model.step` for every operation whose return time
 * is +Infinity; a model must accept any real output in its place.
 */
export const UNKNOWN: unique symbol = Symbol('linearizability.unknown');
export type Unknown = typeof UNKNOWN;

/**
 * One completed (or abandoned) client operation. Times are in any single clock shared by the
 * whole history. `return` is +Infinity when the client gave up waiting: the operation may or
 * may not have taken effect, at any time after `call`. An operation returning at the same time
 * another is called counts as concurrent with it (Porcupine orders calls before returns on a
 * tie), so use a clock fine enough to separate causally ordered events.
 */
export interface Operation<I, O> {
  clientId?: number;
  input: I;
  call: number;
  output: O | Unknown;
  return: number;
}

/** A sequential specification of the object under test. */
export interface Model<S, I, O> {
  /** The initial state. */
  init(): S;
  /** Applies `input` to `state`: whether `output` is what the object could answer, and the next state. */
  step(state: S, input: I, output: O | Unknown): [ok: boolean, next: S];
  /**
   * Splits a history into independent sub-histories checked separately (a history is
   * linearizable iff each part is, for objects that compose, such as distinct keys).
   */
  partition?(history: readonly Operation<I, O>[]): Operation<I, O>[][];
  /** State equality for the search cache (default: Object.is, or equal `key`s). */
  equal?(a: S, b: S): boolean;
  /** A canonical key of a state (equal states have equal keys); also spreads the cache. */
  key?(state: S): string | number;
  /** A short text for failure reports. */
  describe?(input: I, output: O | Unknown): string;
}

/** Verdict: linearizable, not linearizable, or the search ran out of time or steps. */
export type CheckResult = 'ok' | 'illegal' | 'unknown';

/** Limits on the search. */
export interface CheckOptions {
  /** Stop with 'unknown' after this many milliseconds (wall clock, checked every 1024 steps). */
  timeoutMs?: number;
  /** Stop with 'unknown' after this many search steps in total (deterministic budget). */
  maxSteps?: number;
}

/** Outcome for one partition. */
export interface PartitionReport<I, O> {
  result: CheckResult;
  operations: Operation<I, O>[];
  /** A full linearization when 'ok'; otherwise the longest linearizable prefix found. */
  linearization: Operation<I, O>[];
  steps: number;
}

/** Outcome of `analyzeOperations`. */
export interface CheckReport<I, O> {
  result: CheckResult;
  /** Partitions checked, in order; checking stops at the first illegal one. */
  partitions: PartitionReport<I, O>[];
}

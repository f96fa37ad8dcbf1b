/** Porcupine-style linearizability checker for simulation tests. */
export { UNKNOWN } from './types.ts';
export type { CheckOptions, CheckReport, CheckResult, Model, Operation, PartitionReport, Unknown } from './types.ts';
export { analyzeOperations, checkOperations, describeReport } from './checker.ts';
export { kvModel } from './kv-model.ts';
export type { KvInput, KvOutput, KvState } from './kv-model.ts';

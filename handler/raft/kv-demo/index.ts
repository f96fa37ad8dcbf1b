/** A key-value state machine and HTTP API over a raft node, for tests and benchmarks. */
export { KvMachine, KvOp, encodeKvCommand, decodeKvCommand, type KvResult } from './kv-machine.ts';
export { createKvApp, type KvAppDeps } from './http-app.ts';

/** The pure Raft core: engine, configuration, PRNG and codecs. */
export { RaftCore, type StoredState, type RaftStatus, type ProgressStatus } from './raft.ts';
export { resolveRaftConfig, type RaftConfig, type ResolvedRaftConfig } from './config.ts';
export { createPrng, type Prng } from './prng.ts';
export { encodeConfChange, decodeConfChange, applyConfChange } from './conf.ts';
export { ProgressState } from './progress.ts';
export { newMessage, TRANSFER_CONTEXT } from './messages.ts';

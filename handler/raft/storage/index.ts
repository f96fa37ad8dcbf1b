/** Raft storage driver: segmented WAL with group commit, atomic snapshots, recovery. */
export { openRaftStorage, RaftStorage } from './storage.ts';
export type { RaftStorageOptions, RecoveredState, StorageStats } from './storage.ts';
export type { StorageCorruptError, StorageLogger } from './storage-errors.ts';
export { crc32c, crc32cUpdate } from './crc32c.ts';

/**
 * Errors of the storage driver. Corruption is a condition operators must act on, so the error
 * carries the file and byte offset as fields (for logs and tests) as well as in the message.
 */
import { codedError, ErrorCode } from '../../../shared/errors.ts';
import type { CodedError } from '../../../shared/errors.ts';

/** STORAGE_CORRUPT: storage refuses to start; `path` and `offset` locate the damage. */
export type StorageCorruptError = CodedError<Error> & { path: string; offset: number };

/** Builds a STORAGE_CORRUPT error naming the file and byte offset. */
export function corruptError(path: string, offset: number, reason: string): StorageCorruptError {
  const err = codedError(
    Error,
    ErrorCode.STORAGE_CORRUPT,
    `Raft storage file ${path} is corrupt at byte offset ${offset}: ${reason}; refusing to start ` +
      '(restore this node from a snapshot or re-join it from its peers)',
  ) as StorageCorruptError;
  err.path = path;
  err.offset = offset;
  return err;
}

/** Logger shape the driver needs (a pino logger fits). */
export interface StorageLogger {
  warn(fields: Record<string, unknown>, msg: string): void;
}

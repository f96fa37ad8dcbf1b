/**
 * Validation of an append against the shape of the log, before anything is encoded: Raft
 * only ever extends the log or overwrites an uncommitted suffix with consecutive entries of
 * non-decreasing terms. Refusing anything else here keeps a core bug from reaching the disk.
 */
import type { Entry } from '../types.ts';
import { EntryType } from '../types.ts';
import { codedError, ErrorCode } from '../../../shared/errors.ts';
import type { TermIndex } from './term-index.ts';

function bad(message: string): Error {
  return codedError(RangeError, ErrorCode.STORAGE_BAD_INDEX, message);
}

/**
 * Returns a STORAGE_BAD_INDEX error when `entries` do not fit after `log`, or null. An
 * overwrite (first index <= lastIndex) must stay above the persisted `commit` and the
 * snapshot: committed entries are never truncated (Raft paper 5.3, Log Matching).
 */
export function checkAppend(log: TermIndex, commit: number, entries: readonly Entry[]): Error | null {
  const first = entries[0];
  if (first === undefined) return null;
  if (!Number.isSafeInteger(first.index) || first.index > log.lastIndex + 1) {
    return bad(`Entry index ${first.index} leaves a gap: expected <= ${log.lastIndex + 1}`);
  }
  const floor = Math.max(log.baseIndex, first.index <= log.lastIndex ? commit : 0);
  if (first.index <= floor) {
    return bad(`Entry index ${first.index} would overwrite committed or snapshotted entries: expected > ${floor}`);
  }
  let prevTerm = log.termAt(first.index - 1)!;
  for (let k = 0; k < entries.length; k++) {
    const e = entries[k]!;
    if (e.index !== first.index + k) return bad(`Entry ${k} has index ${e.index}: expected ${first.index + k}`);
    if (!Number.isSafeInteger(e.term) || e.term < prevTerm) {
      return bad(`Entry ${e.index} has term ${e.term}: expected >= ${prevTerm}`);
    }
    if ((e.type !== EntryType.Normal && e.type !== EntryType.ConfChange) || !(e.data instanceof Uint8Array)) {
      return codedError(TypeError, ErrorCode.STORAGE_BAD_INDEX, `Entry ${e.index}: expected type 0 or 1 and Uint8Array data`);
    }
    prevTerm = e.term;
  }
  return null;
}

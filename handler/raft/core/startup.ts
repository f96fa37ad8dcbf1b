/**
 * Turning what the driver recovered from disk (or nothing, for a founding member) into the
 * core's starting log, hard state and membership. A founding member writes the same
 * conf-change entries at term 1 as its peers (etcd bootstrap), so nodes added later learn the
 * founding membership from the log itself.
 */
import type { ConfChange, ConfState, Entry, HardState, Snapshot } from '../types.ts';
import { ConfChangeType, EntryType, emptyHardState } from '../types.ts';
import type { ResolvedRaftConfig } from './config.ts';
import { applyConfChange, cloneConfState, decodeConfChange, encodeConfChange } from './conf.ts';
import { RaftLog } from './log.ts';

/** What the driver recovered from disk; omit for a brand-new node. */
export interface StoredState {
  hardState: HardState;
  snapshot: Snapshot | null;
  /** Entries after the snapshot, in index order (entries at or below the snapshot are skipped). */
  entries: Entry[];
  /** Index the state machine is known to have applied (default: the snapshot index). */
  applied?: number;
}

/** The core's state at startup. */
export interface Startup {
  log: RaftLog;
  hardState: HardState;
  /** The hard state already on disk (empty for a bootstrap, whose first Ready persists it). */
  durable: HardState;
  snapshot: Snapshot | null;
  /** Membership as of the applied index. */
  conf: ConfState;
}

/** Builds the starting state from stored state, bootstrapping a new founding member. */
export function startup(cfg: ResolvedRaftConfig, stored: StoredState | undefined): Startup {
  let hardState = stored?.hardState ?? emptyHardState();
  const snapshot = stored?.snapshot ?? null;
  const snapIndex = snapshot?.meta.index ?? 0;
  let entries = stored?.entries ?? [];
  const skip = entries.findIndex((e) => e.index > snapIndex);
  entries = skip < 0 ? [] : skip === 0 ? entries.slice() : entries.slice(skip);
  const bootstrap = hardState.term === 0 && snapshot === null && entries.length === 0 && cfg.initialVoters.length > 0;
  if (bootstrap) {
    const changes: ConfChange[] = [
      ...cfg.initialVoters.map((node) => ({ type: ConfChangeType.AddNode, node })),
      ...cfg.initialLearners.map((node) => ({ type: ConfChangeType.AddLearner, node })),
    ];
    entries = changes.map((cc, i) => ({ term: 1, index: i + 1, type: EntryType.ConfChange, data: encodeConfChange(cc) }));
    hardState = { term: 1, vote: '', commit: entries.length };
  }
  const log = new RaftLog(snapIndex, snapshot?.meta.term ?? 0, entries, hardState.commit, stored?.applied ?? snapIndex);
  // Bootstrap entries are committed by construction but not yet on disk.
  if (bootstrap) log.stabled = 0;
  let conf = snapshot ? cloneConfState(snapshot.meta.conf) : { voters: [], learners: [], votersOutgoing: [] };
  for (let i = snapIndex + 1; i <= log.applied; i++) {
    const e = log.entry(i)!;
    if (e.type === EntryType.ConfChange) conf = applyConfChange(conf, decodeConfChange(e.data));
  }
  return {
    log,
    hardState: { ...hardState, commit: log.committed },
    durable: bootstrap ? emptyHardState() : { ...hardState },
    snapshot,
    conf,
  };
}

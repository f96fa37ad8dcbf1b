/**
 * The replicated state machine (ARCHITECTURE 4). Pure and deterministic: the same entries at
 * the same indices give the same state and the same snapshot bytes on every replica. No clock,
 * randomness or I/O; apply() never throws, it answers an ApplyResult, because a committed
 * entry must be consumed identically everywhere whatever it holds.
 */
import { ErrorCode } from '../../shared/errors.ts';
import { createExit, deleteExit, updateExit } from './apply-exits.ts';
import { revokeKey, unrevokeKey, updateSettings } from './apply-settings.ts';
import { addUsage, resetUsage } from './apply-usage.ts';
import { createUser, deleteUser, updateUser } from './apply-users.ts';
import { parseCommandBytes, type Command } from './commands.ts';
import { createEmitter, diffStates } from './events.ts';
import { byCodeUnit, emptyState, fail, keyText, sortedRevokedKeys, startAfter, type Outcome, type State } from './model.ts';
import { decodeSnapshot, encodeSnapshot } from './snapshot.ts';
import type { ApplyResult, ClusterSettings, StateEvent, StateView } from './types.ts';
import { createExitRegistry, createUserDirectory, pageSize } from './views.ts';

/** The state machine a Raft driver (or the LocalStateStore) applies committed entries to. */
export interface StateMachine extends StateView {
  /**
   * Applies the entry at `index`. Empty data is a no-op entry (a new leader's first entry,
   * Raft thesis 6.4); indices at or below appliedIndex are skipped, as etcd's apply loop
   * does after a snapshot; gaps are allowed (conf-change entries never reach this machine).
   */
  apply(index: number, data: Uint8Array): ApplyResult;
  /** Canonical bytes of the whole state, including appliedIndex. */
  snapshot(): Uint8Array;
  /**
   * Replaces the state with a snapshot's. Throws a BAD_SNAPSHOT coded error (leaving the state
   * untouched) if the bytes are not a valid snapshot; announces the differences as events.
   */
  restore(data: Uint8Array): void;
}

/** Options of a state machine. */
export type StateMachineOptions = {
  /** Receives errors thrown by event listeners (they never reach apply's caller). */
  onListenerError?: (err: unknown, event: StateEvent) => void;
};

function dispatch(s: State, c: Command, events: StateEvent[]): Outcome {
  switch (c.op) {
    case 'user.create':
      return createUser(s, c, events);
    case 'user.update':
      return updateUser(s, c, events);
    case 'user.delete':
      return deleteUser(s, c, events);
    case 'exit.create':
      return createExit(s, c, events);
    case 'exit.update':
      return updateExit(s, c, events);
    case 'exit.delete':
      return deleteExit(s, c, events);
    case 'usage.add':
      return addUsage(s, c, events);
    case 'usage.reset':
      return resetUsage(s, c, events);
    case 'key.revoke':
      return revokeKey(s, c, events);
    case 'key.unrevoke':
      return unrevokeKey(s, c);
    case 'settings.update':
      return updateSettings(s, c, events);
  }
}

/** Creates an empty state machine. */
export function createStateMachine(options: StateMachineOptions = {}): StateMachine {
  let state = emptyState();
  const get = () => state;
  const emitter = createEmitter(options.onListenerError);
  const users = createUserDirectory(get);
  const exits = createExitRegistry(get);

  function apply(index: number, data: Uint8Array): ApplyResult {
    if (!Number.isSafeInteger(index) || index < 1) {
      return { ok: false, index, error: fail(ErrorCode.BAD_COMMAND, `Log index must be a whole number >= 1; got ${index}`, 'index') };
    }
    if (index <= state.appliedIndex) return { ok: true, index, noop: 'stale_index' };
    state.appliedIndex = index;
    if (data.length === 0) return { ok: true, index, noop: 'empty' };
    const parsed = parseCommandBytes(data);
    if (!parsed.ok) return { ok: false, index, error: parsed.error };
    const events: StateEvent[] = [];
    let outcome: Outcome;
    try {
      outcome = dispatch(state, parsed.command, events);
    } catch (err) {
      // Handlers check before they mutate, so this is a bug; report it rather than throw.
      const why = err instanceof Error ? err.message : String(err);
      return { ok: false, index, error: fail(ErrorCode.INTERNAL, `Applying ${parsed.command.op} failed: ${why}`) };
    }
    if (outcome === 'duplicate') return { ok: true, index, noop: 'duplicate' };
    if (outcome !== undefined) return { ok: false, index, error: outcome };
    emitter.emit(events);
    return { ok: true, index };
  }

  function restore(data: Uint8Array): void {
    const next = decodeSnapshot(data);
    const events = diffStates(state, next);
    state = next;
    emitter.emit(events);
  }

  return {
    apply,
    snapshot: () => encodeSnapshot(state),
    restore,
    users,
    exits,
    settings: (): ClusterSettings => state.settings,
    usageWatermark: (handlerId) => state.watermarks.get(handlerId) ?? 0,
    usageWatermarks: () => [...state.watermarks.entries()].sort((a, b) => byCodeUnit(a[0], b[0])),
    isRevoked: (publicKey) => state.revocations.has(keyText(publicKey)),
    revocations(opts = {}) {
      const keys = sortedRevokedKeys(state);
      const from = startAfter(keys, opts.after);
      return keys.slice(from, from + pageSize(opts.limit)).map((k) => ({ publicKey: k, reason: state.revocations.get(k)! }));
    },
    get appliedIndex() {
      return state.appliedIndex;
    },
    subscribe: emitter.subscribe,
  };
}

/**
 * Delivery of state events to listeners, and the events that describe a restore. Listeners
 * run synchronously after the state is updated; one that throws is reported and skipped, so a
 * faulty subscriber can never make replicas diverge or stop the apply loop.
 */
import { admissible, byCodeUnit, type State } from './model.ts';
import type { BlockReason, StateEvent, StateListener, UserRecord } from './types.ts';

/** Listener registry. */
export type Emitter = {
  subscribe(listener: StateListener): () => void;
  emit(events: readonly StateEvent[]): void;
};

/** Creates an emitter; `onError` receives whatever a listener throws. */
export function createEmitter(onError?: (err: unknown, event: StateEvent) => void): Emitter {
  const listeners = new Set<StateListener>();
  return {
    subscribe(listener) {
      // A wrapper per registration, so the same function subscribed twice is called twice.
      const entry: StateListener = (e) => listener(e);
      listeners.add(entry);
      return () => void listeners.delete(entry);
    },
    emit(events) {
      for (const event of events) {
        for (const l of [...listeners]) {
          try {
            l(event);
          } catch (err) {
            onError?.(err, event);
          }
        }
      }
    },
  };
}

/** Field-by-field equality of two frozen records (arrays compared by elements). */
export function sameRecord(a: object | undefined, b: object | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = Object.keys(ra);
  if (keys.length !== Object.keys(rb).length) return false;
  return keys.every((k) => {
    const x = ra[k];
    const y = rb[k];
    if (Array.isArray(x) && Array.isArray(y)) return x.length === y.length && x.every((v, i) => v === y[i]);
    return x === y;
  });
}

function restoreBlock(before: State, after: State, b: UserRecord, a: UserRecord | undefined): BlockReason | undefined {
  if (!admissible(before, b)) return undefined;
  if (a === undefined) return 'deleted';
  if (a.status === 'disabled') return 'disabled';
  if (a.publicKey !== b.publicKey) return 'key_changed';
  if (after.revocations.has(a.publicKey)) return 'key_revoked';
  if (!admissible(after, a)) return 'quota';
  return undefined;
}

/**
 * Events that take a listener from `before` to `after` (a snapshot restore): `restored` first,
 * then every changed user, exit and the settings, each collection in id order.
 */
export function diffStates(before: State, after: State): StateEvent[] {
  const out: StateEvent[] = [{ type: 'restored', appliedIndex: after.appliedIndex }];
  const userIds = [...new Set([...before.users.keys(), ...after.users.keys()])].sort(byCodeUnit);
  for (const id of userIds) {
    const b = before.users.get(id);
    const a = after.users.get(id);
    if (!sameRecord(b, a)) out.push({ type: 'userChanged', id, user: a });
    const reason = b === undefined ? undefined : restoreBlock(before, after, b, a);
    if (reason !== undefined) out.push({ type: 'userDisabled', id, reason });
  }
  const exitIds = [...new Set([...before.exits.keys(), ...after.exits.keys()])].sort(byCodeUnit);
  for (const id of exitIds) {
    const a = after.exits.get(id);
    if (!sameRecord(before.exits.get(id), a)) out.push({ type: 'exitChanged', id, exit: a });
  }
  if (!sameRecord(before.settings, after.settings)) out.push({ type: 'settingsChanged', settings: after.settings });
  return out;
}

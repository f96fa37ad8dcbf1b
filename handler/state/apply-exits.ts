/**
 * exit.create, exit.update and exit.delete. Each change is announced with exitChanged so the
 * router re-weights new streams at once (ARCHITECTURE 4); draining and disabled exits take no
 * new streams, and the router keeps their open ones (ARCHITECTURE 5).
 */
import { ErrorCode } from '../../shared/errors.ts';
import type { CommandOf } from './commands.ts';
import { STATE_LIMITS } from './commands.ts';
import { sameRecord } from './events.ts';
import { fail, makeExit, type Outcome, type State } from './model.ts';
import type { ExitRecord, StateEvent } from './types.ts';

function checkExit(s: State, e: ExitRecord): Outcome {
  if (e.mode === 'dial' && e.url === null) {
    return fail(ErrorCode.BAD_COMMAND, `Exit "${e.id}" in mode dial needs a url (or mode reverse)`, 'url');
  }
  const holder = s.exitKeys.get(e.publicKey);
  if (holder !== undefined && holder !== e.id) {
    return fail(ErrorCode.ALREADY_EXISTS, `Public key is already held by exit "${holder}"`, 'publicKey');
  }
  return undefined;
}

/** Registers an exit: weight 1, mode dial and state active unless given. */
export function createExit(s: State, c: CommandOf<'exit.create'>, events: StateEvent[]): Outcome {
  if (s.exits.has(c.id)) return fail(ErrorCode.ALREADY_EXISTS, `Exit "${c.id}" already exists`, 'id');
  if (s.exits.size >= STATE_LIMITS.maxExits) {
    return fail(ErrorCode.STATE_LIMIT, `The state holds ${STATE_LIMITS.maxExits} exits, the most it may`);
  }
  const exit = makeExit({
    id: c.id,
    url: c.url ?? null,
    region: c.region,
    weight: c.weight ?? 1,
    publicKey: c.publicKey,
    mode: c.mode ?? 'dial',
    state: c.state ?? 'active',
  });
  const problem = checkExit(s, exit);
  if (problem !== undefined) return problem;
  s.exits.set(exit.id, exit);
  s.exitKeys.set(exit.publicKey, exit.id);
  events.push({ type: 'exitChanged', id: exit.id, exit });
  return undefined;
}

/** Changes the given fields of an exit (weight, state, url...); null url clears it. */
export function updateExit(s: State, c: CommandOf<'exit.update'>, events: StateEvent[]): Outcome {
  const before = s.exits.get(c.id);
  if (before === undefined) return fail(ErrorCode.NOT_FOUND, `Exit "${c.id}" does not exist`, 'id');
  const after = makeExit({
    id: before.id,
    url: c.url === undefined ? before.url : c.url,
    region: c.region ?? before.region,
    weight: c.weight ?? before.weight,
    publicKey: c.publicKey ?? before.publicKey,
    mode: c.mode ?? before.mode,
    state: c.state ?? before.state,
  });
  const problem = checkExit(s, after);
  if (problem !== undefined) return problem;
  if (sameRecord(before, after)) return undefined;
  if (after.publicKey !== before.publicKey) {
    s.exitKeys.delete(before.publicKey);
    s.exitKeys.set(after.publicKey, after.id);
  }
  s.exits.set(after.id, after);
  events.push({ type: 'exitChanged', id: after.id, exit: after });
  return undefined;
}

/** Removes an exit from the registry. */
export function deleteExit(s: State, c: CommandOf<'exit.delete'>, events: StateEvent[]): Outcome {
  const before = s.exits.get(c.id);
  if (before === undefined) return fail(ErrorCode.NOT_FOUND, `Exit "${c.id}" does not exist`, 'id');
  s.exits.delete(c.id);
  s.exitKeys.delete(before.publicKey);
  events.push({ type: 'exitChanged', id: c.id, exit: undefined });
  return undefined;
}

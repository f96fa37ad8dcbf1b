/**
 * user.create, user.update and user.delete. Every check runs before the first mutation, so a
 * refused command leaves the state exactly as it was on every replica.
 */
import { ErrorCode } from '../../shared/errors.ts';
import type { CommandOf } from './commands.ts';
import { STATE_LIMITS } from './commands.ts';
import { sameRecord } from './events.ts';
import { admissible, fail, makeUsage, makeUser, quotaExhausted, type Outcome, type State } from './model.ts';
import type { BlockReason, StateEvent, UserRecord } from './types.ts';

function keyProblem(s: State, publicKey: string, ownerId: string | undefined): Outcome {
  if (s.revocations.has(publicKey)) {
    return fail(ErrorCode.KEY_REVOKED, 'Public key is revoked; generate a new key pair', 'publicKey');
  }
  const holder = s.userKeys.get(publicKey);
  if (holder !== undefined && holder !== ownerId) {
    return fail(ErrorCode.ALREADY_EXISTS, `Public key is already held by user "${holder}"`, 'publicKey');
  }
  return undefined;
}

/** Why `after` blocks sessions `before` allowed; undefined when nothing must close. */
export function blockReason(s: State, before: UserRecord, after: UserRecord | undefined): BlockReason | undefined {
  if (!admissible(s, before)) return undefined;
  if (after === undefined) return 'deleted';
  if (after.status === 'disabled') return 'disabled';
  // Sessions authenticated with the old key must not outlive a key change.
  if (after.publicKey !== before.publicKey) return 'key_changed';
  if (quotaExhausted(after)) return 'quota';
  return undefined;
}

/** Creates a user with zero usage. */
export function createUser(s: State, c: CommandOf<'user.create'>, events: StateEvent[]): Outcome {
  if (s.users.has(c.id)) return fail(ErrorCode.ALREADY_EXISTS, `User "${c.id}" already exists`, 'id');
  if (s.users.size >= STATE_LIMITS.maxUsers) {
    return fail(ErrorCode.STATE_LIMIT, `The state holds ${STATE_LIMITS.maxUsers} users, the most it may`);
  }
  const problem = keyProblem(s, c.publicKey, undefined);
  if (problem !== undefined) return problem;
  const user = makeUser({
    id: c.id,
    publicKey: c.publicKey,
    status: c.status ?? 'active',
    quota: c.quota ?? null,
    used: 0,
    rateLimit: c.rateLimit ?? null,
    allowedRegions: c.allowedRegions ?? null,
    maxSessions: c.maxSessions ?? null,
  });
  s.users.set(user.id, user);
  s.userKeys.set(user.publicKey, user.id);
  s.usage.set(user.id, makeUsage(user.id, 0, 0));
  s.sortedUsers = undefined;
  events.push({ type: 'userChanged', id: user.id, user });
  return undefined;
}

/** Changes the given fields of a user; absent fields stay, null clears a limit. */
export function updateUser(s: State, c: CommandOf<'user.update'>, events: StateEvent[]): Outcome {
  const before = s.users.get(c.id);
  if (before === undefined) return fail(ErrorCode.NOT_FOUND, `User "${c.id}" does not exist`, 'id');
  if (c.publicKey !== undefined && c.publicKey !== before.publicKey) {
    const problem = keyProblem(s, c.publicKey, c.id);
    if (problem !== undefined) return problem;
  }
  const after = makeUser({
    id: before.id,
    publicKey: c.publicKey ?? before.publicKey,
    status: c.status ?? before.status,
    quota: c.quota === undefined ? before.quota : c.quota,
    used: before.used,
    rateLimit: c.rateLimit === undefined ? before.rateLimit : c.rateLimit,
    allowedRegions: c.allowedRegions === undefined ? before.allowedRegions : c.allowedRegions,
    maxSessions: c.maxSessions === undefined ? before.maxSessions : c.maxSessions,
  });
  // An update that changes nothing (disabling a disabled user) is accepted silently.
  if (sameRecord(before, after)) return undefined;
  const reason = blockReason(s, before, after);
  if (after.publicKey !== before.publicKey) {
    s.userKeys.delete(before.publicKey);
    s.userKeys.set(after.publicKey, after.id);
  }
  s.users.set(after.id, after);
  events.push({ type: 'userChanged', id: after.id, user: after });
  if (reason !== undefined) events.push({ type: 'userDisabled', id: after.id, reason });
  return undefined;
}

/** Removes a user and its usage counters. */
export function deleteUser(s: State, c: CommandOf<'user.delete'>, events: StateEvent[]): Outcome {
  const before = s.users.get(c.id);
  if (before === undefined) return fail(ErrorCode.NOT_FOUND, `User "${c.id}" does not exist`, 'id');
  const reason = blockReason(s, before, undefined);
  s.users.delete(c.id);
  s.userKeys.delete(before.publicKey);
  s.usage.delete(c.id);
  s.sortedUsers = undefined;
  events.push({ type: 'userChanged', id: c.id, user: undefined });
  if (reason !== undefined) events.push({ type: 'userDisabled', id: c.id, reason });
  return undefined;
}

/**
 * key.revoke, key.unrevoke and settings.update. Revocations cover user (client) keys: a
 * revoked key identifies nobody, cannot be given to a user again, and its sessions close at
 * once. An exit key that leaks is replaced with exit.update instead.
 */
import { ErrorCode } from '../../shared/errors.ts';
import type { CommandOf } from './commands.ts';
import { STATE_LIMITS } from './commands.ts';
import { admissible, fail, type Outcome, type State } from './model.ts';
import type { ClusterSettings, StateEvent } from './types.ts';

/** Revokes a key (held by a user or not yet); revoking again only updates the reason. */
export function revokeKey(s: State, c: CommandOf<'key.revoke'>, events: StateEvent[]): Outcome {
  const reason = c.reason ?? '';
  if (s.revocations.has(c.publicKey)) {
    s.revocations.set(c.publicKey, reason);
    return undefined;
  }
  if (s.revocations.size >= STATE_LIMITS.maxRevocations) {
    return fail(ErrorCode.STATE_LIMIT, `The state holds ${STATE_LIMITS.maxRevocations} revocations, the most it may`);
  }
  const holder = s.userKeys.get(c.publicKey);
  const user = holder === undefined ? undefined : s.users.get(holder);
  const wasAdmissible = user !== undefined && admissible(s, user);
  s.revocations.set(c.publicKey, reason);
  s.sortedRevocations = undefined;
  if (user !== undefined && wasAdmissible) events.push({ type: 'userDisabled', id: user.id, reason: 'key_revoked' });
  return undefined;
}

/** Lifts a revocation (a mistake); the key identifies its user again, if one holds it. */
export function unrevokeKey(s: State, c: CommandOf<'key.unrevoke'>): Outcome {
  if (!s.revocations.has(c.publicKey)) return fail(ErrorCode.NOT_FOUND, 'Public key is not revoked', 'publicKey');
  s.revocations.delete(c.publicKey);
  s.sortedRevocations = undefined;
  return undefined;
}

/** Changes the given settings; announces them when anything differs. */
export function updateSettings(s: State, c: CommandOf<'settings.update'>, events: StateEvent[]): Outcome {
  const before = s.settings;
  const after: ClusterSettings = Object.freeze({
    defaultRateLimit: c.defaultRateLimit === undefined ? before.defaultRateLimit : c.defaultRateLimit,
    defaultMaxSessions: c.defaultMaxSessions === undefined ? before.defaultMaxSessions : c.defaultMaxSessions,
    usageReportInterval: c.usageReportInterval ?? before.usageReportInterval,
    strictRegion: c.strictRegion ?? before.strictRegion,
  });
  const changed = (Object.keys(after) as Array<keyof ClusterSettings>).some((k) => after[k] !== before[k]);
  if (!changed) return undefined;
  s.settings = after;
  events.push({ type: 'settingsChanged', settings: after });
  return undefined;
}

/**
 * usage.add and usage.reset. Handlers aggregate per-user byte counts locally and propose them
 * in batches; a batch is identified by (handlerId, sequence) and counted at most once, so a
 * proposal retried after a timeout (which may have committed after all) is not double counted.
 *
 * Contract for proposers: one batch in flight per handler; a new batch takes the next
 * sequence, a retry reuses its sequence. A batch whose sequence is at or below the handler's
 * watermark is a duplicate. After a restart a handler resumes from usageWatermark(handlerId).
 */
import { ErrorCode } from '../../shared/errors.ts';
import type { CommandOf } from './commands.ts';
import { STATE_LIMITS } from './commands.ts';
import { admissible, fail, makeUsage, makeUser, quotaExhausted, saturatingAdd, type Outcome, type State } from './model.ts';
import type { StateEvent } from './types.ts';

/** Adds a batch of deltas once per (handlerId, sequence); deltas for unknown users are dropped. */
export function addUsage(s: State, c: CommandOf<'usage.add'>, events: StateEvent[]): Outcome {
  const mark = s.watermarks.get(c.handlerId);
  if (mark !== undefined && c.sequence <= mark) return 'duplicate';
  if (mark === undefined && s.watermarks.size >= STATE_LIMITS.maxUsageSources) {
    return fail(ErrorCode.STATE_LIMIT, `Usage comes from ${STATE_LIMITS.maxUsageSources} handler ids already, the most remembered`, 'handlerId');
  }
  s.watermarks.set(c.handlerId, c.sequence);
  for (const d of c.deltas) {
    const user = s.users.get(d.userId);
    const counters = s.usage.get(d.userId);
    // The user may have been deleted after the traffic was counted; nothing to charge then.
    if (user === undefined || counters === undefined) continue;
    if (d.up === 0 && d.down === 0) continue;
    const wasAdmissible = admissible(s, user);
    const next = makeUser({ ...user, used: saturatingAdd(user.used, saturatingAdd(d.up, d.down)) });
    s.users.set(next.id, next);
    s.usage.set(next.id, makeUsage(next.id, saturatingAdd(counters.up, d.up), saturatingAdd(counters.down, d.down)));
    if (wasAdmissible && quotaExhausted(next)) events.push({ type: 'userDisabled', id: next.id, reason: 'quota' });
  }
  return undefined;
}

/** Zeroes a user's counters (a new quota period). */
export function resetUsage(s: State, c: CommandOf<'usage.reset'>, events: StateEvent[]): Outcome {
  const user = s.users.get(c.userId);
  if (user === undefined) return fail(ErrorCode.NOT_FOUND, `User "${c.userId}" does not exist`, 'userId');
  s.usage.set(user.id, makeUsage(user.id, 0, 0));
  if (user.used !== 0) {
    const next = makeUser({ ...user, used: 0 });
    s.users.set(next.id, next);
    events.push({ type: 'userChanged', id: next.id, user: next });
  }
  return undefined;
}

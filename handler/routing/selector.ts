/**
 * Exit selection for new streams: smooth weighted round-robin (swrr.ts) over the exits that
 * are active, weighted, healthy (health.ts) and allowed for the user and region. Pure: the
 * clock and PRNG are injected, so tests and the simulator replay it exactly.
 *
 * Region rule: a preferred region is tried first; if it has no usable exit the pick falls
 * back to every region the user may use (unless `strictRegion`), and the result says
 * `fallback: true`. Availability wins by default because an unreachable tunnel is the worse
 * failure for a censored user; a user who needs a jurisdiction sets strictRegion.
 */
import { codedError, ErrorCode } from '../../shared/errors.ts';
import { createExitHealth, resolveHealthOptions, type ExitHealth, type HealthOptions } from './health.ts';
import { swrrPick, type SwrrState } from './swrr.ts';
import type {
  ExitAdminState,
  ExitDescriptor,
  ExitSnapshot,
  NoExitDetail,
  PickRequest,
  PickResult,
} from './types.ts';

/** Injected dependencies and tunables. */
export type ExitSelectorOptions = {
  /** Milliseconds; default Date.now. */
  readonly now?: () => number;
  /** Float in [0, 1); default Math.random. Only ejection jitter uses it. */
  readonly random?: () => number;
  readonly health?: HealthOptions;
  /** Most exits one stream may try, first pick included (default 3). */
  readonly maxAttempts?: number;
};

/** Chooses exits and takes in the health signals that steer the choice. */
export type ExitSelector = {
  /** Replaces the exit list (from replicated state); weights apply from the next pick. */
  setExits(exits: readonly ExitDescriptor[]): void;
  pick(request?: PickRequest): PickResult;
  /**
   * For a stream whose OPEN failed on `failedExitId` before any byte was sent: picks another
   * exit, excluding every exit in `tried` and the failed one. Does not record the failure;
   * call openFailed() for failures that are the exit's fault.
   */
  retry(request: PickRequest, failedExitId: string, tried?: Iterable<string>): PickResult;
  heartbeat(exitId: string, rttMs: number): void;
  heartbeatMissed(exitId: string): void;
  linkUp(exitId: string): void;
  linkDown(exitId: string): void;
  openSucceeded(exitId: string): void;
  openFailed(exitId: string): void;
  streamStalled(exitId: string): void;
  snapshot(): ExitSnapshot[];
};

type Entry = { desc: ExitDescriptor & { state: ExitAdminState }; health: ExitHealth };

const ADMIN_STATES: readonly ExitAdminState[] = ['active', 'draining', 'disabled'];
const MAX_WEIGHT = 1_000_000;
// Distinct candidate groups (region / allowed-region sets) whose SWRR state is remembered.
const MAX_GROUPS = 1024;

function validate(exits: readonly ExitDescriptor[]): Array<ExitDescriptor & { state: ExitAdminState }> {
  const bad = (message: string) => codedError(RangeError, ErrorCode.BAD_CONFIG, message);
  const seen = new Set<string>();
  return exits.map((e, i) => {
    if (typeof e.id !== 'string' || e.id.length === 0) throw bad(`exits[${i}].id must be a non-empty string`);
    if (seen.has(e.id)) throw bad(`exits[${i}].id "${e.id}" is used twice`);
    seen.add(e.id);
    if (typeof e.region !== 'string' || e.region.length === 0) throw bad(`exits[${i}].region must be a non-empty string`);
    if (!Number.isInteger(e.weight) || e.weight < 0 || e.weight > MAX_WEIGHT) {
      throw bad(`exits[${i}].weight must be an integer 0-${MAX_WEIGHT}, got ${e.weight}`);
    }
    const state = e.state ?? 'active';
    if (!ADMIN_STATES.includes(state)) throw bad(`exits[${i}].state must be active, draining or disabled`);
    return { ...e, state };
  });
}

const noExit = (detail: NoExitDetail, message: string): PickResult => ({ ok: false, reason: 'no_exit', detail, message });

/** Creates a selector with no exits; call setExits() before picking. */
export function createExitSelector(options: ExitSelectorOptions = {}): ExitSelector {
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const healthOptions = resolveHealthOptions(options.health);
  const maxAttempts = options.maxAttempts ?? 3;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw codedError(RangeError, ErrorCode.BAD_CONFIG, `maxAttempts must be an integer >= 1, got ${maxAttempts}`);
  }
  let order: Entry[] = [];
  let byId = new Map<string, Entry>();
  const groups = new Map<string, SwrrState>();

  const groupState = (key: string): SwrrState => {
    let state = groups.get(key);
    if (state === undefined) {
      if (groups.size >= MAX_GROUPS) groups.delete(groups.keys().next().value as string);
      state = new Map();
      groups.set(key, state);
    }
    return state;
  };

  /** Picks within `members` (already filtered by admin state and region). */
  const pickIn = (key: string, members: Entry[], exclude: ReadonlySet<string>): PickResult => {
    if (members.length === 0) return noExit('none_configured', 'No active exit with weight > 0 in the allowed regions');
    const t = now();
    const ready: Entry[] = [];
    let probe: Entry | null = null;
    let excluded = 0;
    for (const m of members) {
      if (exclude.has(m.desc.id)) {
        excluded++;
        continue;
      }
      const a = m.health.availability(t);
      if (a === 'yes') ready.push(m);
      else if (a === 'probe' && probe === null) probe = m;
    }
    // A half-open exit gets the next stream at once, so recovery is not left to chance.
    if (probe !== null) {
      probe.health.beginProbe(t);
      return { ok: true, exitId: probe.desc.id, region: probe.desc.region, probe: true, fallback: false };
    }
    const chosen = swrrPick(groupState(key), ready.map((m) => m.desc));
    if (chosen === null) {
      return excluded === members.length
        ? noExit('all_excluded', 'Every allowed exit was already tried for this stream')
        : noExit('all_unavailable', 'Every allowed exit is down, ejected or probing');
    }
    return { ok: true, exitId: chosen.id, region: chosen.region, probe: false, fallback: false };
  };

  const pick = (request: PickRequest = {}): PickResult => {
    const exclude = new Set(request.exclude ?? []);
    const allowed = request.allowedRegions === undefined ? null : new Set(request.allowedRegions);
    const usable = order.filter((e) => e.desc.state === 'active' && e.desc.weight > 0);
    const inAllowed = allowed === null ? usable : usable.filter((e) => allowed.has(e.desc.region));
    const allowedKey = allowed === null ? '*' : `a:${[...allowed].sort().join('\u0000')}`;
    const region = request.region;
    if (region === undefined) return pickIn(allowedKey, inAllowed, exclude);
    if (allowed !== null && !allowed.has(region)) {
      return noExit('region_not_allowed', `Region "${region}" is not allowed for this user`);
    }
    const first = pickIn(`r:${region}`, inAllowed.filter((e) => e.desc.region === region), exclude);
    if (first.ok || request.strictRegion === true) return first;
    const second = pickIn(allowedKey, inAllowed, exclude);
    return second.ok ? { ...second, fallback: second.region !== region } : second;
  };

  const on = (id: string, f: (h: ExitHealth) => void) => {
    const e = byId.get(id);
    if (e !== undefined) f(e.health);
  };

  return {
    setExits(exits) {
      const next = validate(exits);
      const nextById = new Map<string, Entry>();
      order = next.map((desc) => {
        const entry: Entry = { desc, health: byId.get(desc.id)?.health ?? createExitHealth(healthOptions, random) };
        nextById.set(desc.id, entry);
        return entry;
      });
      byId = nextById;
      for (const state of groups.values()) for (const id of state.keys()) if (!byId.has(id)) state.delete(id);
    },
    pick,
    retry(request, failedExitId, tried = []) {
      const exclude = new Set([...(request.exclude ?? []), ...tried, failedExitId]);
      if (exclude.size >= maxAttempts) {
        return noExit('retries_exhausted', `Stream already tried ${exclude.size} exits; limit is ${maxAttempts}`);
      }
      return pick({ ...request, exclude });
    },
    heartbeat: (id, rttMs) => on(id, (h) => h.heartbeat(rttMs)),
    heartbeatMissed: (id) => on(id, (h) => h.heartbeatMissed()),
    linkUp: (id) => on(id, (h) => h.linkUp()),
    linkDown: (id) => on(id, (h) => h.linkDown()),
    openSucceeded: (id) => on(id, (h) => h.success(now())),
    openFailed: (id) => on(id, (h) => h.failure(now())),
    streamStalled: (id) => on(id, (h) => h.failure(now())),
    snapshot() {
      const t = now();
      return order.map((e) => ({ ...e.desc, health: e.health.snapshot(t) }));
    },
  };
}

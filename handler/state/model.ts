/**
 * The in-memory form of the replicated state, shared by the command handlers, the snapshot
 * codec and the read views. Records are frozen and replaced on change; the maps are the only
 * mutable parts, and only apply() and restore() touch them.
 */
import { encodeBase64Url } from '../../shared/config/base64url.ts';
import type { ErrorCodeValue } from '../../shared/errors.ts';
import type { ApplyError, ClusterSettings, ExitRecord, UsageRecord, UserRecord } from './types.ts';

/** Settings of a fresh cluster. */
export const DEFAULT_SETTINGS: ClusterSettings = Object.freeze({
  defaultRateLimit: null,
  defaultMaxSessions: null,
  usageReportInterval: 10_000,
  strictRegion: false,
});

/** Everything a snapshot holds. */
export type State = {
  appliedIndex: number;
  users: Map<string, UserRecord>;
  /** publicKey -> user id; keys are unique among users. */
  userKeys: Map<string, string>;
  /** user id -> counters; present for every user. */
  usage: Map<string, UsageRecord>;
  exits: Map<string, ExitRecord>;
  /** publicKey -> exit id; keys are unique among exits. */
  exitKeys: Map<string, string>;
  /** handler id -> highest usage batch sequence applied. */
  watermarks: Map<string, number>;
  /** revoked publicKey -> reason. */
  revocations: Map<string, string>;
  settings: ClusterSettings;
  /** Sorted-key caches for paging; dropped whenever a key set changes. */
  sortedUsers: string[] | undefined;
  sortedRevocations: string[] | undefined;
};

/** A state with nothing in it. */
export function emptyState(): State {
  return {
    appliedIndex: 0,
    users: new Map(),
    userKeys: new Map(),
    usage: new Map(),
    exits: new Map(),
    exitKeys: new Map(),
    watermarks: new Map(),
    revocations: new Map(),
    settings: DEFAULT_SETTINGS,
    sortedUsers: undefined,
    sortedRevocations: undefined,
  };
}

/** Compares strings by UTF-16 code units, the same on every runtime (unlike localeCompare). */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Normalises a key given as raw bytes or base64url text to base64url text. */
export function keyText(publicKey: Uint8Array | string): string {
  return typeof publicKey === 'string' ? publicKey : encodeBase64Url(publicKey);
}

/** Builds a frozen user record with fields in a fixed order. */
export function makeUser(u: UserRecord): UserRecord {
  return Object.freeze({
    id: u.id,
    publicKey: u.publicKey,
    status: u.status,
    quota: u.quota,
    used: u.used,
    rateLimit: u.rateLimit,
    allowedRegions: u.allowedRegions === null ? null : Object.freeze([...u.allowedRegions]),
    maxSessions: u.maxSessions,
  });
}

/** Builds a frozen exit record with fields in a fixed order. */
export function makeExit(e: ExitRecord): ExitRecord {
  return Object.freeze({
    id: e.id,
    url: e.url,
    region: e.region,
    weight: e.weight,
    publicKey: e.publicKey,
    mode: e.mode,
    state: e.state,
  });
}

/** Builds frozen usage counters. */
export function makeUsage(userId: string, up: number, down: number): UsageRecord {
  return Object.freeze({ userId, up, down });
}

/** Adds without exceeding Number.MAX_SAFE_INTEGER, so counters stay exact integers. */
export function saturatingAdd(a: number, b: number): number {
  const s = a + b;
  return s > Number.MAX_SAFE_INTEGER ? Number.MAX_SAFE_INTEGER : s;
}

/** True when the user has used up a set quota. */
export function quotaExhausted(u: UserRecord): boolean {
  return u.quota !== null && u.used >= u.quota;
}

/** Ids in sorted order, cached until the user set changes. */
export function sortedUserIds(s: State): string[] {
  s.sortedUsers ??= [...s.users.keys()].sort(byCodeUnit);
  return s.sortedUsers;
}

/** Revoked keys in sorted order, cached until the revocation set changes. */
export function sortedRevokedKeys(s: State): string[] {
  s.sortedRevocations ??= [...s.revocations.keys()].sort(byCodeUnit);
  return s.sortedRevocations;
}

/** First position in a sorted array whose entry is greater than `after` (binary search). */
export function startAfter(sorted: readonly string[], after: string | undefined): number {
  if (after === undefined) return 0;
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** What a command handler answers: an error, a deliberate no-op, or undefined for a change. */
export type Outcome = ApplyError | 'duplicate' | undefined;

/** Builds an apply error; `field` names the command field at fault. */
export function fail(code: ErrorCodeValue, message: string, field?: string): ApplyError {
  return field === undefined ? { code, message } : { code, message, field };
}

/** True when this user may open sessions now (status, quota and key revocation). */
export function admissible(s: State, u: UserRecord): boolean {
  return u.status === 'active' && !quotaExhausted(u) && !s.revocations.has(u.publicKey);
}

/**
 * Snapshot bytes of the replicated state: canonical UTF-8 JSON. Every collection is written in
 * code-unit order of its key and every record with its fields in a fixed order, so replicas
 * that applied the same entries produce identical bytes (the property the determinism tests
 * and any cross-replica checksum rely on). Decoding validates everything with zod and checks
 * the cross-record invariants (unique ids and keys) before anything is replaced.
 */
import { z } from 'zod';
import { ErrorCode, codedError } from '../../shared/errors.ts';
import { STATE_FIELDS as F, STATE_LIMITS } from './commands.ts';
import {
  byCodeUnit,
  emptyState,
  makeExit,
  makeUsage,
  makeUser,
  sortedRevokedKeys,
  sortedUserIds,
  type State,
} from './model.ts';

/** Identifies the snapshot format in its first field. */
export const SNAPSHOT_FORMAT = 'apfsds-state';
/** The snapshot layout version this code writes and reads. */
export const SNAPSHOT_VERSION = 1;

const UserRow = z.strictObject({
  id: F.id,
  publicKey: F.publicKey,
  status: F.userStatus,
  quota: F.bytes.nullable(),
  used: F.bytes,
  rateLimit: F.rate.nullable(),
  allowedRegions: F.regions.nullable(),
  maxSessions: F.sessions.nullable(),
  up: F.bytes,
  down: F.bytes,
});

const ExitRow = z.strictObject({
  id: F.id,
  url: F.url.nullable(),
  region: F.region,
  weight: F.weight,
  publicKey: F.publicKey,
  mode: F.mode,
  state: F.exitState,
});

const SnapshotSchema = z.strictObject({
  format: z.literal(SNAPSHOT_FORMAT),
  v: z.literal(SNAPSHOT_VERSION),
  appliedIndex: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  settings: z.strictObject({
    defaultRateLimit: F.rate.nullable(),
    defaultMaxSessions: F.sessions.nullable(),
    usageReportInterval: F.usageReportInterval,
    strictRegion: z.boolean(),
  }),
  users: z.array(UserRow).max(STATE_LIMITS.maxUsers),
  exits: z.array(ExitRow).max(STATE_LIMITS.maxExits),
  usageWatermarks: z.array(z.tuple([F.id, z.number().int().min(1).max(Number.MAX_SAFE_INTEGER)])).max(STATE_LIMITS.maxUsageSources),
  revocations: z.array(z.tuple([F.publicKey, F.reason])).max(STATE_LIMITS.maxRevocations),
});

const encoder = new TextEncoder();
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Encodes the state canonically. */
export function encodeSnapshot(s: State): Uint8Array {
  const users = sortedUserIds(s).map((id) => {
    const u = s.users.get(id)!;
    const c = s.usage.get(id)!;
    return {
      id: u.id,
      publicKey: u.publicKey,
      status: u.status,
      quota: u.quota,
      used: u.used,
      rateLimit: u.rateLimit,
      allowedRegions: u.allowedRegions,
      maxSessions: u.maxSessions,
      up: c.up,
      down: c.down,
    };
  });
  const exits = [...s.exits.keys()].sort(byCodeUnit).map((id) => s.exits.get(id)!);
  const body = {
    format: SNAPSHOT_FORMAT,
    v: SNAPSHOT_VERSION,
    appliedIndex: s.appliedIndex,
    settings: {
      defaultRateLimit: s.settings.defaultRateLimit,
      defaultMaxSessions: s.settings.defaultMaxSessions,
      usageReportInterval: s.settings.usageReportInterval,
      strictRegion: s.settings.strictRegion,
    },
    users,
    exits,
    usageWatermarks: [...s.watermarks.entries()].sort((a, b) => byCodeUnit(a[0], b[0])),
    revocations: sortedRevokedKeys(s).map((k) => [k, s.revocations.get(k)!]),
  };
  return encoder.encode(JSON.stringify(body));
}

function bad(message: string, cause?: unknown): Error {
  return codedError(RangeError, ErrorCode.BAD_SNAPSHOT, message, cause);
}

/** Decodes and validates snapshot bytes into a fresh state; throws a BAD_SNAPSHOT coded error. */
export function decodeSnapshot(bytes: Uint8Array): State {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch (err) {
    throw bad('Snapshot is not UTF-8 JSON', err);
  }
  const parsed = SnapshotSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw bad(`Snapshot field ${issue?.path.join('.') || '(root)'} is invalid: ${issue?.message ?? 'unknown problem'}`);
  }
  const d = parsed.data;
  const s = emptyState();
  s.appliedIndex = d.appliedIndex;
  s.settings = Object.freeze({ ...d.settings });
  for (const [i, row] of d.users.entries()) {
    if (s.users.has(row.id)) throw bad(`Snapshot users.${i}.id "${row.id}" repeats`);
    if (s.userKeys.has(row.publicKey)) throw bad(`Snapshot users.${i}.publicKey repeats`);
    const { up, down, ...user } = row;
    s.users.set(row.id, makeUser(user));
    s.userKeys.set(row.publicKey, row.id);
    s.usage.set(row.id, makeUsage(row.id, up, down));
  }
  for (const [i, row] of d.exits.entries()) {
    if (s.exits.has(row.id)) throw bad(`Snapshot exits.${i}.id "${row.id}" repeats`);
    if (s.exitKeys.has(row.publicKey)) throw bad(`Snapshot exits.${i}.publicKey repeats`);
    if (row.mode === 'dial' && row.url === null) throw bad(`Snapshot exits.${i}.url is missing for mode dial`);
    s.exits.set(row.id, makeExit(row));
    s.exitKeys.set(row.publicKey, row.id);
  }
  for (const [i, [id, seq]] of d.usageWatermarks.entries()) {
    if (s.watermarks.has(id)) throw bad(`Snapshot usageWatermarks.${i} "${id}" repeats`);
    s.watermarks.set(id, seq);
  }
  for (const [i, [key, reason]] of d.revocations.entries()) {
    if (s.revocations.has(key)) throw bad(`Snapshot revocations.${i} repeats`);
    s.revocations.set(key, reason);
  }
  return s;
}

/**
 * Commands of the replicated state machine, version 1, and their byte encoding. A command is
 * UTF-8 JSON `{"v":1,"op":"user.create",...}`: JSON rather than a compact binary because
 * commands are small and rare next to the data plane, and an operator can read a log entry
 * with any tool. Decoding validates with zod and refuses unknown versions, unknown ops and
 * unknown or invalid fields, so a malformed entry is rejected identically on every replica.
 */
import { z } from 'zod';
import { decodeKeyText } from '../../shared/config/keys.ts';
import { wsUrl } from '../../shared/config/primitives.ts';
import { ErrorCode, codedError, type ErrorCodeValue } from '../../shared/errors.ts';
import type { ApplyError } from './types.ts';

/** The command format version this code writes and applies. */
export const COMMAND_VERSION = 1;

/** Bounds that keep one log entry, and the state, small enough to apply and snapshot quickly. */
export const STATE_LIMITS = {
  maxCommandBytes: 1 << 20,
  maxUsageDeltas: 10_000,
  maxUsers: 1_000_000,
  maxExits: 10_000,
  maxRevocations: 1_000_000,
  /** Distinct handler ids whose usage watermark is remembered. */
  maxUsageSources: 1024,
  maxRegionsPerUser: 64,
  maxReasonLength: 200,
  maxSessions: 10_000,
  maxWeight: 1_000_000,
} as const;

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
// Regions are stored lower-case (config's region() lower-cases), so commands carry them so.
const REGION = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const KEY_TEXT = /^[A-Za-z0-9_-]{43}$/;

const idField = z.string().regex(ID, "expected letters, digits, '.', '_' or '-' (1-64 characters)");
const regionField = z.string().regex(REGION, "expected a lower-case region of letters, digits, '.', '_' or '-'");
const keyField = z
  .string()
  .regex(KEY_TEXT, 'expected an unpadded base64url X25519 key of 43 characters')
  .refine((k) => typeof decodeKeyText(k) !== 'string', 'expected a canonical, non-zero base64url X25519 key');
const bytesField = z.number().int('expected a whole number of bytes').min(0).max(Number.MAX_SAFE_INTEGER);
const rateField = z.number().int('expected whole bytes per second').min(1).max(Number.MAX_SAFE_INTEGER);
const sessionsField = z.number().int().min(1).max(STATE_LIMITS.maxSessions);
const regionsField = z.array(regionField).max(STATE_LIMITS.maxRegionsPerUser);
const weightField = z.number().int('expected a whole weight').min(0).max(STATE_LIMITS.maxWeight);
const statusField = z.enum(['active', 'disabled']);
const exitStateField = z.enum(['active', 'draining', 'disabled']);
const modeField = z.enum(['dial', 'reverse']);
const urlField = wsUrl('an exit link');
const v = z.literal(COMMAND_VERSION);

/** Field schemas shared by commands and the snapshot codec. */
export const STATE_FIELDS = {
  id: idField,
  region: regionField,
  publicKey: keyField,
  bytes: bytesField,
  rate: rateField,
  sessions: sessionsField,
  regions: regionsField,
  weight: weightField,
  userStatus: statusField,
  exitState: exitStateField,
  mode: modeField,
  url: urlField,
  reason: z.string().max(STATE_LIMITS.maxReasonLength),
  usageReportInterval: z.number().int().min(1000).max(3_600_000),
} as const;

const userFields = {
  publicKey: keyField,
  status: statusField,
  quota: bytesField.nullable(),
  rateLimit: rateField.nullable(),
  allowedRegions: regionsField.nullable(),
  maxSessions: sessionsField.nullable(),
};

const exitFields = {
  url: urlField.nullable(),
  region: regionField,
  weight: weightField,
  publicKey: keyField,
  mode: modeField,
  state: exitStateField,
};

const atLeastOne = (keys: readonly string[]) => (value: Record<string, unknown>) => keys.some((k) => value[k] !== undefined);

/** Schemas by op. Absent optional fields of a create take their defaults when applied. */
export const COMMAND_SCHEMAS = {
  'user.create': z.strictObject({
    v,
    op: z.literal('user.create'),
    id: idField,
    publicKey: keyField,
    status: statusField.optional(),
    quota: userFields.quota.optional(),
    rateLimit: userFields.rateLimit.optional(),
    allowedRegions: userFields.allowedRegions.optional(),
    maxSessions: userFields.maxSessions.optional(),
  }),
  'user.update': z
    .strictObject({
      v,
      op: z.literal('user.update'),
      id: idField,
      publicKey: userFields.publicKey.optional(),
      status: userFields.status.optional(),
      quota: userFields.quota.optional(),
      rateLimit: userFields.rateLimit.optional(),
      allowedRegions: userFields.allowedRegions.optional(),
      maxSessions: userFields.maxSessions.optional(),
    })
    .refine(atLeastOne(Object.keys(userFields)), { message: 'expected at least one field to change', path: ['id'] }),
  'user.delete': z.strictObject({ v, op: z.literal('user.delete'), id: idField }),
  'exit.create': z.strictObject({
    v,
    op: z.literal('exit.create'),
    id: idField,
    url: exitFields.url.optional(),
    region: regionField,
    weight: weightField.optional(),
    publicKey: keyField,
    mode: modeField.optional(),
    state: exitStateField.optional(),
  }),
  'exit.update': z
    .strictObject({
      v,
      op: z.literal('exit.update'),
      id: idField,
      url: exitFields.url.optional(),
      region: exitFields.region.optional(),
      weight: exitFields.weight.optional(),
      publicKey: exitFields.publicKey.optional(),
      mode: exitFields.mode.optional(),
      state: exitFields.state.optional(),
    })
    .refine(atLeastOne(Object.keys(exitFields)), { message: 'expected at least one field to change', path: ['id'] }),
  'exit.delete': z.strictObject({ v, op: z.literal('exit.delete'), id: idField }),
  'usage.add': z.strictObject({
    v,
    op: z.literal('usage.add'),
    handlerId: idField,
    /** Increases by one per new batch from this handler; a retry reuses the sequence. */
    sequence: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    deltas: z
      .array(z.strictObject({ userId: idField, up: bytesField, down: bytesField }))
      .min(1, 'expected at least one delta')
      .max(STATE_LIMITS.maxUsageDeltas, `expected at most ${STATE_LIMITS.maxUsageDeltas} deltas`),
  }),
  'usage.reset': z.strictObject({ v, op: z.literal('usage.reset'), userId: idField }),
  'key.revoke': z.strictObject({
    v,
    op: z.literal('key.revoke'),
    publicKey: keyField,
    reason: STATE_FIELDS.reason.optional(),
  }),
  'key.unrevoke': z.strictObject({ v, op: z.literal('key.unrevoke'), publicKey: keyField }),
  'settings.update': z
    .strictObject({
      v,
      op: z.literal('settings.update'),
      defaultRateLimit: rateField.nullable().optional(),
      defaultMaxSessions: sessionsField.nullable().optional(),
      usageReportInterval: STATE_FIELDS.usageReportInterval.optional(),
      strictRegion: z.boolean().optional(),
    })
    .refine(atLeastOne(['defaultRateLimit', 'defaultMaxSessions', 'usageReportInterval', 'strictRegion']), {
      message: 'expected at least one setting to change',
      path: ['op'],
    }),
} as const;

type Schemas = typeof COMMAND_SCHEMAS;
/** Names of the commands. */
export type CommandOp = keyof Schemas;
/** One command of each op. */
export type CommandOf<O extends CommandOp> = z.output<Schemas[O]>;
/** Any command. */
export type Command = { [O in CommandOp]: CommandOf<O> }[CommandOp];

/** Every op name, in a stable order (for error messages and docs). */
export const COMMAND_OPS = Object.keys(COMMAND_SCHEMAS) as CommandOp[];

/** Outcome of validating a would-be command. */
export type CommandCheck = { readonly ok: true; readonly command: Command } | { readonly ok: false; readonly error: ApplyError };

function problem(code: ErrorCodeValue, message: string, field?: string): CommandCheck {
  return { ok: false, error: field === undefined ? { code, message } : { code, message, field } };
}

function firstIssue(error: z.ZodError): { field: string; message: string } {
  const issue = error.issues[0];
  if (issue === undefined) return { field: '', message: 'invalid' };
  const path = issue.path.map(String);
  if (issue.code === 'unrecognized_keys' && issue.keys[0] !== undefined) {
    return { field: [...path, issue.keys[0]].join('.'), message: 'is not a known field' };
  }
  return { field: path.join('.'), message: issue.message };
}

/** Validates a decoded value as a command, without throwing. */
export function checkCommand(value: unknown): CommandCheck {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return problem(ErrorCode.BAD_COMMAND, 'Command must be a JSON object with fields v and op');
  }
  const { v: version, op } = value as { v?: unknown; op?: unknown };
  if (version !== COMMAND_VERSION) {
    if (typeof version === 'number') {
      return problem(ErrorCode.UNSUPPORTED, `Command version ${version} is not supported; expected ${COMMAND_VERSION}`, 'v');
    }
    return problem(ErrorCode.BAD_COMMAND, `Command field v must be ${COMMAND_VERSION}`, 'v');
  }
  if (typeof op !== 'string' || !Object.hasOwn(COMMAND_SCHEMAS, op)) {
    const shown = typeof op === 'string' ? `"${op.slice(0, 40)}"` : 'missing';
    return problem(ErrorCode.BAD_COMMAND, `Command op ${shown} is unknown; expected one of ${COMMAND_OPS.join(', ')}`, 'op');
  }
  const parsed = COMMAND_SCHEMAS[op as CommandOp].safeParse(value);
  if (!parsed.success) {
    const { field, message } = firstIssue(parsed.error);
    return problem(ErrorCode.BAD_COMMAND, `Command ${op} field ${field || '(root)'}: ${message}`, field);
  }
  return { ok: true, command: parsed.data as Command };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/** Decodes and validates command bytes, without throwing. */
export function parseCommandBytes(bytes: Uint8Array): CommandCheck {
  if (bytes.length > STATE_LIMITS.maxCommandBytes) {
    return problem(ErrorCode.BAD_COMMAND, `Command is ${bytes.length} bytes; expected at most ${STATE_LIMITS.maxCommandBytes}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(bytes));
  } catch {
    return problem(ErrorCode.BAD_COMMAND, 'Command is not UTF-8 JSON');
  }
  return checkCommand(value);
}

/** Decodes and validates command bytes; throws a BAD_COMMAND (or UNSUPPORTED) coded error. */
export function decodeCommand(bytes: Uint8Array): Command {
  const r = parseCommandBytes(bytes);
  if (!r.ok) throw codedError(TypeError, r.error.code, r.error.message);
  return r.command;
}

/**
 * Validates and encodes a command. The output lists fields in schema order, so equal commands
 * encode to equal bytes. Throws a BAD_COMMAND coded error for an invalid command.
 */
export function encodeCommand(command: Command): Uint8Array {
  const r = checkCommand(command);
  if (!r.ok) throw codedError(TypeError, r.error.code, r.error.message);
  const bytes = encoder.encode(JSON.stringify(r.command));
  if (bytes.length > STATE_LIMITS.maxCommandBytes) {
    throw codedError(RangeError, ErrorCode.BAD_COMMAND, `Command is ${bytes.length} bytes; expected at most ${STATE_LIMITS.maxCommandBytes}`);
  }
  return bytes;
}

/**
 * Request schemas of the admin API. They accept what an operator types (sizes like "10GB",
 * durations like "30s", regions in any case) using the config's own leaf schemas, and produce
 * the canonical values the state commands carry.
 */
import { z } from 'zod';
import { decodeKeyText } from '../../shared/config/keys.ts';
import { encodeBase64Url } from '../../shared/config/base64url.ts';
import { count, duration, id, region, size, wsUrl, wsUrlAnyPath } from '../../shared/config/primitives.ts';
import { STATE_LIMITS } from '../state/commands.ts';
import { PAGE } from '../state/views.ts';

/** A public key as base64url text; output canonical unpadded base64url. */
export const publicKeyText = () =>
  z.string({ error: 'expected a base64url X25519 public key' }).transform((text, ctx) => {
    const bytes = decodeKeyText(text);
    if (typeof bytes === 'string') {
      ctx.addIssue({ code: 'custom', message: bytes });
      return z.NEVER;
    }
    return encodeBase64Url(bytes);
  });

const regions = z.array(region(), { error: 'expected a list of regions' }).max(STATE_LIMITS.maxRegionsPerUser);
const weight = z
  .number({ error: `expected a whole weight from 0 to ${STATE_LIMITS.maxWeight}` })
  .int(`expected a whole weight from 0 to ${STATE_LIMITS.maxWeight}`)
  .min(0, `expected a whole weight from 0 to ${STATE_LIMITS.maxWeight}`)
  .max(STATE_LIMITS.maxWeight, `expected a whole weight from 0 to ${STATE_LIMITS.maxWeight}`);
const userStatus = z.enum(['active', 'disabled'], { error: 'expected active or disabled' });

const userLimits = {
  status: userStatus.optional(),
  quota: size(0).nullable().optional(),
  rateLimit: size(1).nullable().optional(),
  allowedRegions: regions.nullable().optional(),
  maxSessions: count(1, STATE_LIMITS.maxSessions).nullable().optional(),
};

const nonEmpty = (v: object) => Object.values(v).some((x) => x !== undefined);

/** POST /users. Without publicKey the handler generates a key pair and returns the private key once. */
export const CreateUserBody = z.strictObject({ id: id('a user id'), publicKey: publicKeyText().optional(), ...userLimits });

/** PATCH /users/:id. */
export const UpdateUserBody = z
  .strictObject({ publicKey: publicKeyText().optional(), ...userLimits })
  .refine(nonEmpty, 'expected at least one field to change');

/** POST /exits. */
export const CreateExitBody = z.strictObject({
  id: id('an exit id'),
  url: wsUrl('an exit link').optional(),
  region: region(),
  weight: weight.optional(),
  publicKey: publicKeyText(),
  mode: z.enum(['dial', 'reverse'], { error: 'expected dial or reverse' }).optional(),
  state: z.enum(['active', 'draining', 'disabled'], { error: 'expected active, draining or disabled' }).optional(),
});

/** PATCH /exits/:id. */
export const UpdateExitBody = z
  .strictObject({
    url: wsUrl('an exit link').nullable().optional(),
    region: region().optional(),
    weight: weight.optional(),
    publicKey: publicKeyText().optional(),
    mode: z.enum(['dial', 'reverse'], { error: 'expected dial or reverse' }).optional(),
    state: z.enum(['active', 'draining', 'disabled'], { error: 'expected active, draining or disabled' }).optional(),
  })
  .refine(nonEmpty, 'expected at least one field to change');

/** PATCH /settings. */
export const SettingsBody = z
  .strictObject({
    defaultRateLimit: size(1).nullable().optional(),
    defaultMaxSessions: count(1, STATE_LIMITS.maxSessions).nullable().optional(),
    usageReportInterval: duration(1000, 3_600_000).optional(),
    strictRegion: z.boolean({ error: 'expected true or false' }).optional(),
  })
  .refine(nonEmpty, 'expected at least one setting to change');

/** POST /revocations. */
export const RevokeBody = z.strictObject({
  publicKey: publicKeyText(),
  reason: z.string({ error: 'expected a reason as text' }).max(STATE_LIMITS.maxReasonLength).optional(),
});

/** POST /cluster/members. */
export const MemberBody = z.strictObject({
  id: id('a node id'),
  url: wsUrlAnyPath('a raft peer'),
  /** Join as a non-voting learner (recommended: promote once caught up). */
  learner: z.boolean({ error: 'expected true or false' }).optional(),
});

/** POST /cluster/transfer-leadership. */
export const TransferBody = z.strictObject({ to: id('a node id').optional() });

/** ?limit=&after= paging of lists. */
export const PageQuery = z.strictObject({
  limit: z
    .string()
    .regex(/^\d{1,4}$/, `expected a whole number from 1 to ${PAGE.max}`)
    .transform(Number)
    .refine((n) => n >= 1 && n <= PAGE.max, `expected a whole number from 1 to ${PAGE.max}`)
    .optional(),
  after: z.string().max(64).optional(),
  stale: z.enum(['0', '1', 'true', 'false'], { error: 'expected true or false' }).optional(),
});

/** Query of single-record reads. */
export const ReadQuery = z.strictObject({ stale: PageQuery.shape.stale });

/** Ids in paths use the config id rule. */
export const PathId = id();

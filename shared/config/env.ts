/**
 * Environment overrides. Nested form: APFSDS_<ROLE>__<FIELD>__<FIELD>... = value, each
 * <FIELD> the field name in SCREAMING_SNAKE_CASE (MAX_FRAME_SIZE = maxFrameSize) or an array
 * index; only variables of the role being loaded apply. The value is typed by the schema at
 * that path: numbers and booleans are parsed, lists split on commas (or JSON if it starts with
 * '['), objects and key/secret references take JSON ('{"file": "..."}'), anything else
 * stays the literal string; NAME__FILE / NAME__ENV replace the whole reference. Shorthands:
 * APFSDS_LOG_LEVEL (log.level of any role) and APFSDS_EGRESS_ALLOW (comma-separated CIDRs:
 * exit egress.allow, up allowEgress); a nested variable for the same field wins over them.
 */
import type { z } from 'zod';
import { arrayElements, fieldNames, leafKinds, schemasAt } from './schema-walk.ts';

/** Prefix of every variable the config loader reads. */
export const ENV_PREFIX = 'APFSDS_';

/** Roles that have a config file. */
export type Role = 'handler' | 'exit' | 'client' | 'up';

/** One environment variable that changed the config. */
export type EnvOverride = { variable: string; path: (string | number)[] };

const SHORTHANDS: Record<string, Partial<Record<Role, (string | number)[]>>> = {
  APFSDS_LOG_LEVEL: { handler: ['log', 'level'], exit: ['log', 'level'], client: ['log', 'level'], up: ['log', 'level'] },
  APFSDS_EGRESS_ALLOW: { exit: ['egress', 'allow'], up: ['allowEgress'] },
};

/** "MAX_FRAME_SIZE" -> "maxFrameSize". */
export function camelCase(segment: string): string {
  const parts = segment.toLowerCase().split('_').filter((p) => p !== '');
  return parts.map((p, i) => (i === 0 ? p : p[0]!.toUpperCase() + p.slice(1))).join('');
}

function resolveSegment(schema: z.core.$ZodType, at: (string | number)[], segment: string): string | number {
  if (/^\d+$/.test(segment)) return Number(segment);
  const flat = segment.replace(/_/g, '').toLowerCase();
  const known = schemasAt(schema, at).flatMap((s) => fieldNames(s));
  return known.find((k) => k.toLowerCase() === flat) ?? camelCase(segment);
}

const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;
const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/** Turns the variable's text into the type the schema expects at that place. */
export function coerceEnvValue(raw: string, schemas: z.core.$ZodType[]): unknown {
  const kinds = leafKinds(schemas);
  const text = raw.trim();
  if (kinds.has('array')) {
    if (text.startsWith('[')) return parseJson(text) ?? raw;
    const elements = arrayElements(schemas);
    return text
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')
      .map((s) => coerceEnvValue(s, elements));
  }
  // Key and secret fields (z.unknown() references) take { "file": ... } or { "env": ... } as JSON.
  if ((kinds.has('object') || kinds.has('unknown')) && text.startsWith('{')) return parseJson(text) ?? raw;
  if (kinds.has('string') || kinds.has('unknown') || kinds.size === 0) return raw;
  if (kinds.has('number') && NUMBER.test(text)) return Number(text);
  if (kinds.has('boolean')) {
    const lower = text.toLowerCase();
    if (TRUE.has(lower)) return true;
    if (FALSE.has(lower)) return false;
  }
  return raw;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function setPath(root: Record<string, unknown>, path: (string | number)[], value: unknown): void {
  let node: Record<string | number, unknown> = root;
  for (let i = 0; i < path.length - 1; i++) {
    const seg = path[i]!;
    const next = path[i + 1]!;
    const existing = node[seg];
    if (typeof existing !== 'object' || existing === null) node[seg] = typeof next === 'number' ? [] : {};
    node = node[seg] as Record<string | number, unknown>;
  }
  const last = path[path.length - 1]!;
  // A key or secret reference has exactly one source: APFSDS_..._TOKEN__FILE replaces an
  // { env } given in the file (and __ENV a { file }) instead of leaving both.
  const other = REFERENCE_SOURCES[last as string];
  if (other !== undefined) delete node[other];
  node[last] = value;
}

const REFERENCE_SOURCES: Record<string, string> = { file: 'env', env: 'file' };

/**
 * Applies the environment to a parsed (not yet validated) config document. Returns the new
 * document (the input is not modified), which variables changed which paths, and malformed
 * variable names.
 */
export function applyEnv(
  role: Role,
  schema: z.core.$ZodType,
  doc: unknown,
  env: Readonly<Record<string, string | undefined>>,
): { doc: Record<string, unknown>; applied: EnvOverride[]; problems: string[] } {
  const base = typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? doc : {};
  const out = structuredClone(base) as Record<string, unknown>;
  const applied: EnvOverride[] = [];
  const problems: string[] = [];
  const put = (variable: string, path: (string | number)[], raw: string) => {
    setPath(out, path, coerceEnvValue(raw, schemasAt(schema, path)));
    applied.push({ variable, path });
  };
  for (const [variable, paths] of Object.entries(SHORTHANDS)) {
    const raw = env[variable];
    const path = paths[role];
    if (raw !== undefined && raw !== '' && path !== undefined) put(variable, path, raw);
  }
  const prefix = `${ENV_PREFIX}${role.toUpperCase()}__`;
  const names = Object.keys(env)
    .filter((n) => n.startsWith(prefix))
    .sort();
  for (const variable of names) {
    const raw = env[variable];
    if (raw === undefined || raw === '') continue;
    const segments = variable.slice(prefix.length).split('__');
    if (segments.some((s) => s === '')) {
      problems.push(`${variable}: empty field name between '__'; expected ${prefix}FIELD__FIELD`);
      continue;
    }
    const path: (string | number)[] = [];
    for (const seg of segments) path.push(resolveSegment(schema, path, seg));
    put(variable, path, raw);
  }
  return { doc: out, applied, problems };
}

/**
 * Turns YAML and schema problems into one BAD_CONFIG error whose message names each field
 * path (`exits[1].weight`), the bad value (hidden for secrets and keys) and what was expected.
 */
import type { z } from 'zod';
import { ErrorCode, codedError, type CodedError } from '../errors.ts';
import type { EnvOverride } from './env.ts';
import { fieldNames, schemasAt } from './schema-walk.ts';

/** One problem with the config. `path` is '' for the document itself. */
export type ConfigIssue = {
  path: string;
  message: string;
  /** The environment variable that set this field, when one did. */
  variable?: string;
  line?: number;
  column?: number;
};

/** The error every config problem is reported as (code BAD_CONFIG). */
export type ConfigError = CodedError<TypeError | SyntaxError> & { issues: ConfigIssue[] };

/** ['exits', 1, 'weight'] -> "exits[1].weight". */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

/** Field names whose values are never echoed back. */
const SECRET_FIELD = /key|token|password|secret|authorization|credential|passphrase|cookie/i;

/** Describes a value for an error message without revealing secrets. */
export function describeValue(value: unknown, path: readonly PropertyKey[]): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  const secret = path.some((seg) => typeof seg === 'string' && SECRET_FIELD.test(seg));
  if (typeof value === 'string') {
    if (secret) return `a string of ${value.length} characters (value hidden)`;
    const shown = value.length > 80 ? `${value.slice(0, 77)}...` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'number' || typeof value === 'boolean') return secret ? `a ${typeof value} (value hidden)` : String(value);
  if (Array.isArray(value)) return `a list of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (typeof value === 'object') return 'a mapping (object)';
  return `a ${typeof value}`;
}

function valueAt(doc: unknown, path: readonly PropertyKey[]): unknown {
  let node: unknown = doc;
  for (const seg of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[seg];
  }
  return node;
}

const TYPE_NAMES: Record<string, string> = {
  object: 'a mapping (object)',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
};

/** Per-parse zod error map for the issues our schemas leave to defaults. */
export const configErrorMap: z.core.$ZodErrorMap = (iss) => {
  switch (iss.code) {
    case 'invalid_type':
      return `expected ${TYPE_NAMES[iss.expected] ?? iss.expected}`;
    case 'too_small':
      if (iss.origin === 'array') return `expected at least ${String(iss.minimum)} item(s)`;
      return `expected ${iss.origin === 'string' ? 'a length' : 'a value'} ${iss.inclusive ? '>=' : '>'} ${String(iss.minimum)}`;
    case 'too_big':
      if (iss.origin === 'array') return `expected at most ${String(iss.maximum)} item(s)`;
      return `expected ${iss.origin === 'string' ? 'a length' : 'a value'} ${iss.inclusive ? '<=' : '<'} ${String(iss.maximum)}`;
    case 'invalid_value':
      return `expected one of ${iss.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return undefined;
  }
};

function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length]!;
}

/** The closest known name to a mistyped one, if it is close enough to be a typo. */
export function suggest(name: string, known: string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const k of known) {
    const d = k.toLowerCase() === name.toLowerCase() ? 0 : distance(name.toLowerCase(), k.toLowerCase());
    if (d < bestScore) [best, bestScore] = [k, d];
  }
  return bestScore <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

function envFor(path: readonly PropertyKey[], applied: EnvOverride[]): string | undefined {
  // The variable set this field, a field above it, or (an unknown field) something below it.
  const prefix = (a: readonly PropertyKey[], b: readonly PropertyKey[]) => a.length <= b.length && a.every((s, i) => s === b[i]);
  const hit = applied
    .filter((o) => prefix(o.path, path) || (path.length > 0 && prefix(path, o.path)))
    .sort((a, b) => b.path.length - a.path.length)[0];
  return hit?.variable;
}

/** Converts zod issues into config issues with paths, hidden secrets and typo hints. */
export function issuesFromZod(
  issues: readonly z.core.$ZodIssue[],
  schema: z.core.$ZodType,
  doc: unknown,
  applied: EnvOverride[] = [],
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const add = (path: readonly PropertyKey[], message: string) => {
    const variable = envFor(path, applied);
    out.push({ path: formatPath(path), message, ...(variable === undefined ? {} : { variable }) });
  };
  for (const iss of issues) {
    const path = iss.path as PropertyKey[];
    if (iss.code === 'unrecognized_keys') {
      const known = schemasAt(schema, path as (string | number)[]).flatMap((s) => fieldNames(s));
      for (const key of iss.keys) {
        const hint = suggest(key, known);
        add(
          [...path, key],
          hint === undefined ? `unknown field; expected one of ${known.join(', ')}` : `unknown field; did you mean "${hint}"?`,
        );
      }
      continue;
    }
    const value = valueAt(doc, path);
    const message =
      value === undefined
        ? `missing; ${iss.message}`
        : /\bgot\b/.test(iss.message)
          ? iss.message
          : `${iss.message}, got ${describeValue(value, path)}`;
    add(path, message);
  }
  return out;
}

/** Renders issues as indented lines (used in the error message). */
export function renderIssues(issues: ConfigIssue[]): string {
  return issues
    .map((i) => {
      const where = i.line === undefined ? '' : `line ${i.line}, column ${i.column ?? 1}: `;
      const field = i.path === '' ? '' : `${i.path}: `;
      const from = i.variable === undefined ? '' : ` (set by ${i.variable})`;
      return `  - ${where}${field}${i.message}${from}`;
    })
    .join('\n');
}

/** Builds the BAD_CONFIG error for a list of issues. */
export function configError(
  Ctor: typeof TypeError | typeof SyntaxError,
  what: string,
  issues: ConfigIssue[],
  cause?: unknown,
): ConfigError {
  const err = codedError(Ctor, ErrorCode.BAD_CONFIG, `Invalid ${what}:\n${renderIssues(issues)}`, cause) as ConfigError;
  err.issues = issues;
  return err;
}

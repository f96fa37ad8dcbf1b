/**
 * Loading a role's config: YAML or JSON text (YAML 1.2 is a superset of JSON, so one parser
 * reads both and reports line numbers for both), then APFSDS_* environment overrides, then
 * strict schema validation, then file/env secrets. Every failure is one BAD_CONFIG error that
 * lists all problems, so an operator fixes a file in one pass.
 */
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { ClientConfigSchema } from './client.ts';
import { applyEnv, type Role } from './env.ts';
import { ExitConfigSchema } from './exit.ts';
import { HandlerConfigSchema } from './handler.ts';
import { configError, configErrorMap, formatPath, issuesFromZod, type ConfigIssue } from './issues.ts';
import { resolveRefs, type SecretIO } from './keys.ts';
import { UpConfigSchema } from './up.ts';

/** The schema of each role's config file. */
export const ConfigSchemas = {
  handler: HandlerConfigSchema,
  exit: ExitConfigSchema,
  client: ClientConfigSchema,
  up: UpConfigSchema,
} as const;

/** The parsed config type of a role. */
export type ConfigFor<R extends Role> = z.output<(typeof ConfigSchemas)[R]>;

/** What loading needs from the runtime: file reads and the environment (see SecretIO). */
export type ConfigIO = SecretIO;

/** Options for parsing config text that is already in memory. */
export type ParseOptions = {
  /** Environment for APFSDS_* overrides; none applied when absent. */
  env?: Readonly<Record<string, string | undefined>>;
  /** File name for messages. */
  source?: string;
};

function label(role: Role, source: string | undefined): string {
  return `${role} config${source === undefined ? '' : ` ${source}`}`;
}

/**
 * Parses YAML or JSON text into a plain document. An empty document is `{}`. Throws a
 * BAD_CONFIG SyntaxError naming the line and column of the first syntax problems.
 */
export function parseConfigText(text: string, what = 'config'): Record<string, unknown> {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const issues: ConfigIssue[] = doc.errors.slice(0, 5).map((e) => {
      const pos = e.linePos?.[0];
      const reason = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '');
      return { path: '', message: `not valid YAML/JSON: ${reason}`, line: pos?.line ?? 1, column: pos?.col ?? 1 };
    });
    throw configError(SyntaxError, what, issues, doc.errors[0]);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw configError(SyntaxError, what, [{ path: '', message: `not valid YAML/JSON: ${message}` }], err);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw configError(TypeError, what, [
      { path: '', message: `expected a mapping of fields at the top level, got ${Array.isArray(value) ? 'a list' : `a ${typeof value}`}` },
    ]);
  }
  return value as Record<string, unknown>;
}

/**
 * Validates a parsed document (plus environment overrides) against a role's schema. Inline
 * keys are decoded at once; file and env secrets stay unresolved (see resolveSecrets).
 */
export function validateConfig<R extends Role>(role: R, doc: unknown, options: ParseOptions = {}): ConfigFor<R> {
  const schema = ConfigSchemas[role] as unknown as z.ZodType;
  const what = label(role, options.source);
  const { doc: merged, applied, problems } = applyEnv(role, schema, doc, options.env ?? {});
  const result = schema.safeParse(merged, { error: configErrorMap });
  const issues: ConfigIssue[] = problems.map((message) => ({ path: '', message }));
  if (!result.success) issues.push(...issuesFromZod(result.error.issues, schema, merged, applied));
  if (issues.length > 0) throw configError(TypeError, what, issues, result.error);
  return result.data as ConfigFor<R>;
}

/** parseConfigText + validateConfig: synchronous, no file reads. */
export function parseConfig<R extends Role>(role: R, text: string, options: ParseOptions = {}): ConfigFor<R> {
  return validateConfig(role, parseConfigText(text, label(role, options.source)), options);
}

/**
 * Resolves `{ file }` and `{ env }` keys and secrets inside a parsed config (in place) and
 * derives or checks key pairs. Relative files are read from `baseDir`. Throws BAD_CONFIG.
 */
export async function resolveSecrets(config: unknown, io: ConfigIO, baseDir?: string, what = 'config'): Promise<void> {
  const problems = await resolveRefs(config, io, baseDir);
  if (problems.length > 0) {
    throw configError(TypeError, what, problems.map((p) => ({ path: formatPath(p.path), message: p.message })));
  }
}

function dirname(path: string): string {
  const i = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return i < 0 ? '' : i === 0 ? '/' : path.slice(0, i);
}

/**
 * Loads a role's config: reads `path` (or $APFSDS_CONFIG; with neither, starts from an empty
 * document so env alone can configure a role), applies APFSDS_* overrides from `io.env`,
 * validates, and resolves secrets relative to the file's directory. Throws BAD_CONFIG.
 */
export async function loadConfig<R extends Role>(role: R, path: string | undefined, io: ConfigIO): Promise<ConfigFor<R>> {
  const file = path ?? (io.env['APFSDS_CONFIG'] || undefined);
  const what = label(role, file);
  let doc: Record<string, unknown> = {};
  if (file !== undefined) {
    let text: string;
    try {
      text = await io.readText(file);
    } catch (err) {
      const why = err instanceof Error ? ((err as { code?: string }).code ?? err.message) : String(err);
      throw configError(TypeError, what, [{ path: '', message: `cannot read the config file (${why})` }], err);
    }
    doc = parseConfigText(text, what);
  }
  const config = validateConfig(role, doc, { env: io.env, ...(file === undefined ? {} : { source: file }) });
  await resolveSecrets(config, io, file === undefined ? undefined : dirname(file), what);
  return config;
}

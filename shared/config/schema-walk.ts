/**
 * Looks inside zod schemas by path, for the two places that need the shape of the config
 * rather than a value: environment overrides (which field does APFSDS_X__MAX_FRAME_SIZE name,
 * and is it a number?) and "did you mean" hints for unknown fields. Uses zod v4's documented
 * `_zod.def` introspection (zod/v4/core).
 */
import type { z } from 'zod';

type Def = {
  type: string;
  shape?: Record<string, z.core.$ZodType>;
  innerType?: z.core.$ZodType;
  in?: z.core.$ZodType;
  element?: z.core.$ZodType;
  options?: z.core.$ZodType[];
  valueType?: z.core.$ZodType;
  left?: z.core.$ZodType;
  right?: z.core.$ZodType;
};

const WRAPPERS = new Set(['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional']);

function def(schema: z.core.$ZodType): Def {
  return schema._zod.def as unknown as Def;
}

/** Strips wrappers (optional, default, pipe input...) and spreads unions into their options. */
export function unwrap(schema: z.core.$ZodType, depth = 0): z.core.$ZodType[] {
  if (depth > 32) return [schema];
  const d = def(schema);
  if (WRAPPERS.has(d.type) && d.innerType !== undefined) return unwrap(d.innerType, depth + 1);
  if (d.type === 'pipe' && d.in !== undefined) return unwrap(d.in, depth + 1);
  if (d.type === 'union' && d.options !== undefined) return d.options.flatMap((o) => unwrap(o, depth + 1));
  if (d.type === 'intersection' && d.left !== undefined && d.right !== undefined) {
    return [...unwrap(d.left, depth + 1), ...unwrap(d.right, depth + 1)];
  }
  return [schema];
}

/** The field names an object schema (or any object option of a union) accepts. */
export function fieldNames(schema: z.core.$ZodType): string[] {
  const names = new Set<string>();
  for (const s of unwrap(schema)) {
    const shape = def(s).shape;
    if (def(s).type === 'object' && shape !== undefined) for (const k of Object.keys(shape)) names.add(k);
  }
  return [...names];
}

/** The schemas a child segment can have (several when a union has several matching options). */
export function child(schema: z.core.$ZodType, segment: string | number): z.core.$ZodType[] {
  const out: z.core.$ZodType[] = [];
  for (const s of unwrap(schema)) {
    const d = def(s);
    if (d.type === 'object' && typeof segment === 'string' && d.shape?.[segment] !== undefined) out.push(d.shape[segment]);
    else if (d.type === 'array' && typeof segment === 'number' && d.element !== undefined) out.push(d.element);
    else if (d.type === 'record' && d.valueType !== undefined) out.push(d.valueType);
  }
  return out;
}

/** The schemas at a path from the root (empty when the path leaves the schema). */
export function schemasAt(root: z.core.$ZodType, path: readonly (string | number)[]): z.core.$ZodType[] {
  let current = [root];
  for (const seg of path) {
    current = current.flatMap((s) => child(s, seg));
    if (current.length === 0) break;
  }
  return current;
}

/** The leaf kinds a schema accepts, e.g. ['number'] or ['number', 'string'] for a duration. */
export function leafKinds(schemas: z.core.$ZodType[]): Set<string> {
  const kinds = new Set<string>();
  for (const s of schemas.flatMap((x) => unwrap(x))) {
    const t = def(s).type;
    kinds.add(t === 'enum' || t === 'literal' || t === 'template_literal' ? 'string' : t);
  }
  return kinds;
}

/** The element schemas of the array options among `schemas`. */
export function arrayElements(schemas: z.core.$ZodType[]): z.core.$ZodType[] {
  return schemas.flatMap((s) => unwrap(s)).flatMap((s) => (def(s).type === 'array' && def(s).element ? [def(s).element!] : []));
}

/**
 * V8 garbage-collector settings for a relay process, applied once at start by the CLI.
 *
 * Every relayed message allocates off-heap buffers (socket reads, node:crypto's cipher output)
 * whose JavaScript handles are tiny. With V8's default scheduling, an incremental-marking
 * *task* keeps starting full mark-compact collections while the old generation is far below
 * its limit (measured: 140-350 mark-compacts per GiB relayed by the handler, old space 17 of
 * 41 MB, each collection promoting the buffers in flight and so feeding the next one). Turning
 * the task off leaves marking to start when the allocation limit is really reached: one
 * mark-compact per GiB, and the same transfer runs about 1.7 times as fast (docs/benchmarks.md).
 * Memory stays bounded by the same old-generation limit.
 */

/** V8 flags the CLI sets before any role starts. */
export const RELAY_V8_FLAGS = ['--no-incremental-marking-task'] as const;

type V8Module = { setFlagsFromString(flags: string): void };

/**
 * Sets RELAY_V8_FLAGS through node:v8 where the runtime supports it (Node); returns the flags
 * that were set (none on a runtime without node:v8 flag control, such as Deno, whose defaults
 * then apply).
 */
export function tuneGarbageCollector(): readonly string[] {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown; versions?: { deno?: string } } }).process;
  if (proc?.versions?.deno !== undefined) return [];
  const v8 = proc?.getBuiltinModule?.('node:v8') as V8Module | undefined;
  if (v8 === undefined) return [];
  for (const flag of RELAY_V8_FLAGS) v8.setFlagsFromString(flag);
  return RELAY_V8_FLAGS;
}

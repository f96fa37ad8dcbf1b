/**
 * V8 garbage-collector settings for a relay process, applied once at start by the CLI.
 *
 * Every relayed message allocates off-heap buffers (socket reads, node:crypto's cipher output)
 * whose JavaScript handles are tiny. With V8's defaults a relay falls into a storm of full
 * mark-compact collections while the old generation is far below its limit (measured: 140-350
 * per GiB relayed by the handler, old space 17 of 41 MB), each collection promoting the buffers
 * in flight and so feeding the next. Two settings stop it:
 *   - `--no-incremental-marking-task`: no task starts marking early; alone it took the handler
 *     from 10.9 to 3.3 CPU-seconds per GiB, but about one bulk run in five still stormed;
 *   - `--heap-growing-percent=300`: after a collection the old generation may grow to four
 *     times what survived (V8's own factor ranges up to that) so its headroom stays above the
 *     young generation's capacity, below which V8 starts marking at once (the storms began
 *     with 24 MB of headroom against a larger young generation). No storm in 18 runs since;
 *     the cost is about 28 MiB more resident in the handler after bulk traffic.
 * The heap's maximum size is unchanged, so memory stays bounded (docs/runtime.md).
 */
import v8 from 'node:v8';
import { isNode } from './detect.ts';

/** V8 flags the CLI sets before any role starts. */
export const RELAY_V8_FLAGS = ['--no-incremental-marking-task', '--heap-growing-percent=300'] as const;

/**
 * Sets RELAY_V8_FLAGS through node:v8 on Node; returns the flags that were set (none on Deno,
 * whose defaults then apply).
 */
export function tuneGarbageCollector(): readonly string[] {
  if (!isNode) return [];
  for (const flag of RELAY_V8_FLAGS) v8.setFlagsFromString(flag);
  return RELAY_V8_FLAGS;
}

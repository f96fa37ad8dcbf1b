/** Types of scripts/build.mjs for the tests that import it. */

/** Deletes every emitted file under `dist` whose source under `root` is gone; returns the deleted paths. */
export function pruneStale(dist: string, root: string): string[];

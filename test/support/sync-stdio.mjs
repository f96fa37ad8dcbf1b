// Preloaded into every node:test file process by scripts/test.mjs (`--import`).
//
// Node 20 writes to a pipe asynchronously, and `--test-force-exit` ends a test file's process
// with process.exit() as soon as its tests are done: the last reports still queued for the pipe
// were lost now and then (42 of 51 tests counted for one file, no failure shown). A failing
// test still failed the run through the exit code, but the counts were wrong. Blocking writes
// leave nothing queued at exit.
for (const stream of [process.stdout, process.stderr]) {
  const handle = /** @type {{ setBlocking?: (on: boolean) => void } | undefined} */ (stream._handle);
  handle?.setBlocking?.(true);
}

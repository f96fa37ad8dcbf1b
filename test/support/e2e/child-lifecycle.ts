/**
 * Lifecycle of a benchmark helper process (bench-peer.ts, bench-relay.ts) spawned through
 * role-process.ts: its stdin is a pipe nobody writes, so it closes when the parent dies.
 */
import process from 'node:process';

/** Exits (code 0) when the parent's stdin pipe closes or on SIGTERM. */
export function exitWithParent(): void {
  process.stdin.on('close', () => process.exit(0));
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
  process.on('SIGTERM', () => process.exit(0));
}

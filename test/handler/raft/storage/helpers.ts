/** Shared fixtures for the storage tests: temp directories and entry builders. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry } from '../../../../handler/raft/types.ts';
import { EntryType } from '../../../../handler/raft/types.ts';

/** Creates a fresh temp directory; `cleanup` removes it. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'apfsds-raft-storage-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Entries [from, to] in `term`, each with `size` bytes of data derived from index and term. */
export function makeEntries(from: number, to: number, term: number, size = 16): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) {
    const data = new Uint8Array(size);
    for (let k = 0; k < size; k++) data[k] = (i * 31 + term * 7 + k) & 0xff;
    out.push({ term, index: i, type: EntryType.Normal, data });
  }
  return out;
}

/** Compact description of entries for deepEqual assertions: "index:term:firstByte:length". */
export function describe(entries: readonly Entry[]): string[] {
  return entries.map((e) => `${e.index}:${e.term}:${e.data[0] ?? '-'}:${e.data.length}`);
}

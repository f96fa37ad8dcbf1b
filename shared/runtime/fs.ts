/**
 * Durable file primitives for the Raft storage driver and anything else that must survive a
 * crash. node:fs/promises behaves the same on Node >= 20 and Deno 2 (checked with strace on
 * both: `open(dir)` + `fsync` really issues fsync(2) on the directory), so one adapter serves
 * both runtimes. Core code imports this module instead of node:fs.
 */
import { open, readFile, readdir, mkdir, rename, unlink, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import process from 'node:process';

/** An open file written at explicit offsets, with explicit flushes to stable storage. */
export interface DurableFile {
  readonly path: string;
  /** Writes all of `data` at byte `position` (loops over short writes). */
  write(data: Uint8Array, position: number): Promise<void>;
  /** fdatasync(2): file data plus the metadata needed to read it back (its size). */
  datasync(): Promise<void>;
  /** fsync(2): data and all metadata. */
  sync(): Promise<void>;
  /** Cuts the file to `size` bytes. */
  truncate(size: number): Promise<void>;
  /** Current size in bytes. */
  size(): Promise<number>;
  close(): Promise<void>;
}

class NodeDurableFile implements DurableFile {
  readonly path: string;
  readonly #fh: FileHandle;

  constructor(path: string, fh: FileHandle) {
    this.path = path;
    this.#fh = fh;
  }

  async write(data: Uint8Array, position: number): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.#fh.write(data, done, data.length - done, position + done);
      if (bytesWritten <= 0) throw new Error(`Short write to ${this.path}: wrote 0 bytes at ${position + done}`);
      done += bytesWritten;
    }
  }

  datasync(): Promise<void> {
    return this.#fh.datasync();
  }

  sync(): Promise<void> {
    return this.#fh.sync();
  }

  truncate(size: number): Promise<void> {
    return this.#fh.truncate(size);
  }

  async size(): Promise<number> {
    return (await this.#fh.stat()).size;
  }

  close(): Promise<void> {
    return this.#fh.close();
  }
}

/**
 * Opens a file for positional reads and writes. `create` fails if the file exists (O_EXCL),
 * so a writer never silently reuses a name; `existing` fails if it does not.
 */
export async function openDurableFile(path: string, mode: 'create' | 'existing'): Promise<DurableFile> {
  const fh = await open(path, mode === 'create' ? 'wx+' : 'r+', 0o600);
  return new NodeDurableFile(path, fh);
}

/** Reads a whole file as a Uint8Array that owns its bytes. */
export async function readFileBytes(path: string): Promise<Uint8Array> {
  const buf = await readFile(path);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Reads at most the first `maxBytes` bytes of a file. */
export async function readFileHead(path: string, maxBytes: number): Promise<Uint8Array> {
  const fh = await open(path, 'r');
  try {
    const buf = new Uint8Array(maxBytes);
    let done = 0;
    while (done < maxBytes) {
      const { bytesRead } = await fh.read(buf, done, maxBytes - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    return buf.subarray(0, done);
  } finally {
    await fh.close();
  }
}

/** Names (not paths) of the entries of a directory, sorted. */
export async function listDir(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

/** Creates a directory and its parents (mode 0700: Raft state is private to the node). */
export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
}

/** Removes a file; a missing file is not an error (removal is idempotent). */
export async function removeFile(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if ((err as { code?: unknown }).code !== 'ENOENT') throw err;
  }
}

/** rename(2): atomic replacement within one filesystem. */
export async function renameFile(from: string, to: string): Promise<void> {
  await rename(from, to);
}

/** True when a path exists. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return false;
    throw err;
  }
}

/**
 * Makes a directory's entries durable (a created, renamed or removed name). POSIX needs an
 * fsync of the directory itself for that (see the LWN article "Ensuring data reaches disk").
 * Windows cannot open a directory as a file and NTFS journals names, so it is a no-op there;
 * everywhere else an error is reported, never swallowed.
 */
export async function syncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Suffix of the temporary files `writeFileAtomic` leaves behind if it is interrupted. */
export const ATOMIC_TEMP_SUFFIX = '.tmp';

/**
 * Replaces `path` with `data` so that after a crash the file holds either the old or the new
 * bytes in full: write a temp file, fsync it, rename it over `path`, fsync the directory.
 * A crash can leave `<path>.tmp` behind; readers ignore and remove such files.
 */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const tmp = path + ATOMIC_TEMP_SUFFIX;
  const fh = await open(tmp, 'w', 0o600);
  try {
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await fh.write(data, done, data.length - done, done);
      if (bytesWritten <= 0) throw new Error(`Short write to ${tmp}: wrote 0 bytes at ${done}`);
      done += bytesWritten;
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await syncDir(dirname(path));
}

/** Joins path segments with the platform separator. */
export function joinPath(...parts: string[]): string {
  return join(...parts);
}

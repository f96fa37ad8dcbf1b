/**
 * Key material and secrets in config. A key field accepts a literal base64url X25519 key, or
 * `{ file: path }`, or `{ env: NAME }`; the schema turns it into a `Key` whose bytes are known
 * at once (literal) or after `resolveSecrets` (file, env). Secrets (tokens, passwords) work
 * the same way as `Secret`. Both serialise as "[redacted]" (private keys, secrets), so a
 * config object that reaches a log line or JSON.stringify never carries them (ARCHITECTURE 7).
 */
import { z } from 'zod';
import { decodeBase64Url, encodeBase64Url } from './base64url.ts';
import { derivePublicKey } from '../crypto/keys.ts';
import { ErrorCode, codedError } from '../errors.ts';

/** Whether a key is a static private key or a public key. */
export type KeyKind = 'private' | 'public';
/** Where a key or secret comes from; 'derived' is a public key computed from its private key. */
export type RefSource = 'inline' | 'file' | 'env' | 'derived';

/** X25519 keys are 32 bytes (RFC 7748 section 5). */
export const KEY_BYTES = 32;
/** Length of an unpadded base64url 32-byte key. */
export const KEY_TEXT_LENGTH = 43;
/** What every secret looks like once serialised. */
export const REDACTED = '[redacted]';

const keyBytes = new WeakMap<Key, Uint8Array>();
const secretValues = new WeakMap<Secret, string>();

/** A 32-byte X25519 key from config; `bytes` throws until the key is resolved. */
export class Key {
  readonly kind: KeyKind;
  readonly source: RefSource;
  /** File path (source 'file') or variable name (source 'env'). */
  readonly location: string | undefined;
  /** For a public key of a key pair: the private key it is derived from or checked against. */
  readonly privateHalf: Key | undefined;
  /**
   * A public key as base64url once resolved (undefined for private keys). An own data
   * property, so copies made by log redaction still print it.
   */
  declare readonly base64url: string | undefined;

  constructor(kind: KeyKind, source: RefSource, location?: string, privateHalf?: Key) {
    this.kind = kind;
    this.source = source;
    this.location = location;
    this.privateHalf = privateHalf;
  }

  /** A resolved key from raw bytes (key generation, tests). */
  static fromBytes(kind: KeyKind, bytes: Uint8Array): Key {
    const key = new Key(kind, 'inline');
    setKeyBytes(key, bytes);
    return key;
  }

  /** True once the bytes are known. */
  get resolved(): boolean {
    return keyBytes.has(this);
  }

  /** The 32 key bytes (shared, do not mutate). Throws BAD_CONFIG when not resolved yet. */
  get bytes(): Uint8Array {
    const b = keyBytes.get(this);
    if (b === undefined) {
      throw codedError(
        Error,
        ErrorCode.BAD_CONFIG,
        `Key from ${this.source} ${this.location ?? ''} is not resolved yet; load the config with loadConfig`,
      );
    }
    return b;
  }

  /** The key as unpadded base64url (for writing key files and registering public keys). */
  toBase64Url(): string {
    return encodeBase64Url(this.bytes);
  }

  /** Public keys print as base64url; private keys never print. */
  toJSON(): string {
    if (this.kind === 'private') return REDACTED;
    return this.base64url ?? `[unresolved ${this.source}]`;
  }

  /** Same as toJSON, so template strings cannot leak a private key. */
  toString(): string {
    return this.toJSON();
  }
}

/** A secret string from config (admin token, SOCKS password); prints as "[redacted]". */
export class Secret {
  readonly source: Exclude<RefSource, 'derived'>;
  readonly location: string | undefined;

  constructor(source: Exclude<RefSource, 'derived'>, location?: string) {
    this.source = source;
    this.location = location;
  }

  /** A resolved secret from a literal value (generated tokens, tests). */
  static fromValue(value: string): Secret {
    const s = new Secret('inline');
    secretValues.set(s, value);
    return s;
  }

  /** True once the value is known. */
  get resolved(): boolean {
    return secretValues.has(this);
  }

  /** The secret value. Throws BAD_CONFIG when not resolved yet. */
  get value(): string {
    const v = secretValues.get(this);
    if (v === undefined) {
      throw codedError(
        Error,
        ErrorCode.BAD_CONFIG,
        `Secret from ${this.source} ${this.location ?? ''} is not resolved yet; load the config with loadConfig`,
      );
    }
    return v;
  }

  toJSON(): string {
    return REDACTED;
  }

  toString(): string {
    return REDACTED;
  }
}

/** A static key pair; `publicKey` is derived from `privateKey` when the config omits it. */
export type KeyPair = { privateKey: Key; publicKey: Key };

function setKeyBytes(key: Key, bytes: Uint8Array): void {
  keyBytes.set(key, bytes);
  if (key.kind === 'public') {
    Object.defineProperty(key, 'base64url', { value: encodeBase64Url(bytes), enumerable: true });
  }
}

/** Decodes key text, or returns the reason it is not a key (never echoing the text). */
export function decodeKeyText(text: string): Uint8Array | string {
  const t = text.trim();
  if (/[+/]/.test(t)) {
    return 'expected base64url (with - and _), got standard base64 (with + or /)';
  }
  const bytes = decodeBase64Url(t);
  if (bytes === undefined || bytes.length !== KEY_BYTES) {
    return `expected a base64url X25519 key of ${KEY_BYTES} bytes (${KEY_TEXT_LENGTH} characters)`;
  }
  if (bytes.every((b) => b === 0)) return 'expected a real key, not the all-zero key';
  return bytes;
}

/** X25519 public key of a private key (RFC 7748 section 6.1), on the preferred crypto backend. */
export { derivePublicKey };

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const REF_HINT = 'a literal value, { file: path } or { env: NAME }';

type Ref = { source: 'inline'; text: string } | { source: 'file' | 'env'; location: string };

function readRef(value: unknown, ctx: z.RefinementCtx, what: string): Ref | undefined {
  if (typeof value === 'string') {
    if (value.trim() === '') {
      ctx.addIssue({ code: 'custom', message: `expected ${what}, got an empty string` });
      return undefined;
    }
    return { source: 'inline', text: value };
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const entries = Object.entries(value);
    const [k, v] = entries[0] ?? [];
    if (entries.length === 1 && k === 'file' && typeof v === 'string' && v !== '') {
      return { source: 'file', location: v };
    }
    if (entries.length === 1 && k === 'env' && typeof v === 'string' && ENV_NAME.test(v)) {
      return { source: 'env', location: v };
    }
    const keys = entries.map(([name]) => name).join(', ') || 'no fields';
    ctx.addIssue({ code: 'custom', message: `expected ${what} as ${REF_HINT}, got an object with ${keys}` });
    return undefined;
  }
  ctx.addIssue({ code: 'custom', message: `expected ${what} as ${REF_HINT}` });
  return undefined;
}

/** Schema for one key field: literal base64url, { file } or { env }. */
export function keyRef(kind: KeyKind) {
  const what = `a base64url ${kind} key`;
  return z.unknown().transform((value, ctx): Key => {
    const ref = readRef(value, ctx, what);
    if (ref === undefined) return z.NEVER;
    if (ref.source !== 'inline') return new Key(kind, ref.source, ref.location);
    const bytes = decodeKeyText(ref.text);
    if (typeof bytes === 'string') {
      ctx.addIssue({ code: 'custom', message: bytes });
      return z.NEVER;
    }
    return Key.fromBytes(kind, bytes);
  });
}

/** Schema for a secret string field (token, password): literal, { file } or { env }. */
export function secretRef(what: string, minLength = 1) {
  return z.unknown().transform((value, ctx): Secret => {
    const ref = readRef(value, ctx, what);
    if (ref === undefined) return z.NEVER;
    if (ref.source !== 'inline') return new Secret(ref.source, ref.location);
    if (ref.text.length < minLength) {
      ctx.addIssue({ code: 'custom', message: `expected ${what} of at least ${minLength} characters` });
      return z.NEVER;
    }
    return Secret.fromValue(ref.text);
  });
}

/** Schema for `{ privateKey, publicKey? }`; checks or derives the public key. */
export function keyPairSchema() {
  return z
    .strictObject({ privateKey: keyRef('private'), publicKey: keyRef('public').optional() })
    .transform((pair, ctx): KeyPair => {
      const priv = pair.privateKey;
      const given = pair.publicKey;
      const pub =
        given === undefined
          ? new Key('public', 'derived', undefined, priv)
          : new Key('public', given.source, given.location, priv);
      if (given?.resolved) setKeyBytes(pub, given.bytes);
      const problem = settlePublicKey(pub);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, path: ['publicKey'] });
      return { privateKey: priv, publicKey: pub };
    });
}

/** Derives or checks a pair's public key once both sides are known; returns a problem. */
function settlePublicKey(pub: Key): string | undefined {
  const priv = pub.privateHalf;
  if (priv === undefined || !priv.resolved) return undefined;
  if (pub.source === 'derived') {
    if (!pub.resolved) setKeyBytes(pub, derivePublicKey(priv.bytes));
    return undefined;
  }
  if (!pub.resolved) return undefined;
  const derived = derivePublicKey(priv.bytes);
  const same = pub.bytes.length === derived.length && pub.bytes.every((b, i) => b === derived[i]);
  return same ? undefined : 'expected the public key of privateKey; got a different key (fix or omit publicKey)';
}

/** What resolving secrets needs from the runtime. */
export type SecretIO = {
  /** Reads a UTF-8 file (relative paths are already joined to the config directory). */
  readText(path: string): Promise<string>;
  env: Readonly<Record<string, string | undefined>>;
  /** Permission bits of a file, when the runtime can tell; used to warn about loose key files. */
  fileMode?(path: string): Promise<number | undefined>;
  /** Receives non-fatal findings (e.g. a key file readable by others). */
  warn?(message: string): void;
};

/** A problem with one config field; `path` is like `exits[1].weight`. */
export type FieldProblem = { path: (string | number)[]; message: string };

type Found = { path: (string | number)[]; ref: Key | Secret };

function collect(node: unknown, path: (string | number)[], out: Found[], seen: Set<object>): void {
  if (node instanceof Key || node instanceof Secret) {
    out.push({ path, ref: node });
    return;
  }
  if (typeof node !== 'object' || node === null || seen.has(node)) return;
  seen.add(node);
  if (Array.isArray(node)) node.forEach((v, i) => collect(v, [...path, i], out, seen));
  else for (const [k, v] of Object.entries(node)) collect(v, [...path, k], out, seen);
}

/** Joins a relative path to the config file's directory (absolute paths stay as they are). */
export function joinPath(baseDir: string | undefined, p: string): string {
  if (baseDir === undefined || baseDir === '' || p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p)) return p;
  return baseDir.endsWith('/') ? baseDir + p : `${baseDir}/${p}`;
}

/**
 * Resolves every file/env key and secret inside a parsed config (in place), derives and
 * checks public keys of key pairs, and returns the problems found (empty when all is well).
 */
export async function resolveRefs(config: unknown, io: SecretIO, baseDir?: string): Promise<FieldProblem[]> {
  const found: Found[] = [];
  collect(config, [], found, new Set());
  const problems: FieldProblem[] = [];
  for (const { path, ref } of found) {
    if (ref.resolved || (ref instanceof Key && ref.source === 'derived')) continue;
    const text = await readSource(ref, io, baseDir, path, problems);
    if (text === undefined) continue;
    if (ref instanceof Secret) {
      secretValues.set(ref, text.replace(/\r?\n$/, ''));
      continue;
    }
    const bytes = decodeKeyText(text);
    if (typeof bytes === 'string') {
      problems.push({ path, message: `${bytes} (read from ${ref.source} ${ref.location})` });
    } else setKeyBytes(ref, bytes);
  }
  for (const { path, ref } of found) {
    if (!(ref instanceof Key) || ref.privateHalf === undefined) continue;
    const problem = settlePublicKey(ref);
    if (problem !== undefined) problems.push({ path, message: problem });
  }
  return problems;
}

async function readSource(
  ref: Key | Secret,
  io: SecretIO,
  baseDir: string | undefined,
  path: (string | number)[],
  problems: FieldProblem[],
): Promise<string | undefined> {
  const location = ref.location ?? '';
  if (ref.source === 'env') {
    const v = io.env[location];
    if (v === undefined || v === '') problems.push({ path, message: `environment variable ${location} is not set` });
    return v === '' ? undefined : v;
  }
  const file = joinPath(baseDir, location);
  try {
    const text = await io.readText(file);
    const mode = io.fileMode === undefined ? undefined : await io.fileMode(file);
    // Public keys are not secret: only private keys and secrets must be owner-only.
    const secret = !(ref instanceof Key) || ref.kind === 'private';
    if (secret && mode !== undefined && (mode & 0o077) !== 0 && io.warn !== undefined) {
      const octal = (mode & 0o777).toString(8).padStart(4, '0');
      io.warn(`Secret file ${file} has mode ${octal}; expected 0600 (readable by its owner only)`);
    }
    return text;
  } catch (err) {
    const why = err instanceof Error ? ((err as { code?: string }).code ?? err.message) : String(err);
    problems.push({ path, message: `cannot read file ${file} (${why})` });
    return undefined;
  }
}

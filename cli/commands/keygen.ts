/**
 * `apfsds keygen`: makes an X25519 key pair for a user, the handler cluster or an exit.
 * Prints both keys (base64url), or with --out PREFIX writes PREFIX.key (mode 0600) and
 * PREFIX.pub (mode 0644) and prints only the public key. --public-of FILE prints the public key
 * of an existing private key file.
 */
import { closeSync, existsSync, fchmodSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { wipe } from '../../shared/crypto/bytes.ts';
import { decodeKey, derivePublicKey, encodeKey, generateKeyPair } from '../../shared/crypto/keys.ts';

export const summary = 'Generate an X25519 key pair (base64url), optionally into PREFIX.key / PREFIX.pub';

const HELP = `Usage: apfsds keygen [--out PREFIX [--force]] | [--public-of FILE]

Generates an X25519 key pair for a user, the handler cluster or an exit.

  (no options)        print the private and the public key
  --out PREFIX        write PREFIX.key (private, mode 0600) and PREFIX.pub (public, mode 0644)
                      and print the public key; refuses to overwrite existing files
  --force             with --out: replace existing files
  --public-of FILE    print the public key of the private key in FILE
  -h, --help          show this help

Keys are 32 bytes written as 43 base64url characters without padding.`;

/** Creates `path` with exactly `mode` (umask does not apply) holding `text`. */
function writeKeyFile(path: string, text: string, mode: number, force: boolean): void {
  if (force) {
    try {
      unlinkSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  // 'wx' is O_CREAT|O_EXCL: no overwrite, and a private key is never readable by others, even briefly.
  const fd = openSync(path, 'wx', mode);
  try {
    fchmodSync(fd, mode);
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

export async function run(argv: string[]): Promise<number> {
  let values: { out?: string | undefined; force?: boolean | undefined; 'public-of'?: string | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        out: { type: 'string' },
        force: { type: 'boolean' },
        'public-of': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    console.error(`apfsds keygen: ${(err as Error).message}\n\n${HELP}`);
    return 2;
  }
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values['public-of'] !== undefined) {
    if (values.out !== undefined) {
      console.error('apfsds keygen: --public-of and --out do not combine');
      return 2;
    }
    const file = values['public-of'];
    try {
      const privateKey = decodeKey(readFileSync(file, 'utf8'), `private key in ${file}`);
      console.log(encodeKey(derivePublicKey(privateKey)));
      wipe(privateKey);
      return 0;
    } catch (err) {
      console.error(`apfsds keygen: ${(err as Error).message}`);
      return 1;
    }
  }
  if (values.force && values.out === undefined) {
    console.error('apfsds keygen: --force only applies with --out');
    return 2;
  }
  const { privateKey, publicKey } = generateKeyPair();
  const privateText = encodeKey(privateKey);
  const publicText = encodeKey(publicKey);
  wipe(privateKey);
  if (values.out === undefined) {
    console.log(`private: ${privateText}\npublic:  ${publicText}`);
    return 0;
  }
  const keyPath = `${values.out}.key`;
  const pubPath = `${values.out}.pub`;
  const existing = [keyPath, pubPath].filter((p) => existsSync(p));
  if (existing.length > 0 && values.force !== true) {
    // Checked up front so a refusal leaves neither file half-replaced.
    console.error(`apfsds keygen: ${existing.join(' and ')} already exist${existing.length === 1 ? 's' : ''} (use --force to replace)`);
    return 1;
  }
  try {
    writeKeyFile(keyPath, `${privateText}\n`, 0o600, values.force === true);
    writeKeyFile(pubPath, `${publicText}\n`, 0o644, values.force === true);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const reason = e.code === 'EEXIST' ? `${e.path ?? 'the file'} exists (use --force to replace it)` : e.message;
    console.error(`apfsds keygen: ${reason}`);
    return 1;
  }
  console.log(`wrote ${keyPath} (private, 0600) and ${pubPath} (public, 0644)\npublic:  ${publicText}`);
  return 0;
}

/**
 * `apfsds keygen` end to end: the real CLI in a child process (`node --import tsx cli/main.ts`),
 * writing into a temporary directory.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { decodeKey, derivePublicKey } from '../../../shared/crypto/keys.ts';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'apfsds-keygen-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function keygen(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('node', ['--import', 'tsx', 'cli/main.ts', 'keygen', ...args], {
    cwd: repo,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

describe('apfsds keygen', () => {
  it('prints a labelled key pair whose public key derives from the private key', () => {
    const r = keygen();
    assert.equal(r.status, 0, r.stderr);
    const priv = /^private: (\S+)$/m.exec(r.stdout)?.[1];
    const pub = /^public: +(\S+)$/m.exec(r.stdout)?.[1];
    assert.ok(priv && pub, r.stdout);
    assert.deepEqual(derivePublicKey(decodeKey(priv)), decodeKey(pub));
  });

  it('writes PREFIX.key as 0600 and PREFIX.pub as 0644, and refuses to overwrite without --force', () => {
    const prefix = join(dir, 'exit-us');
    const first = keygen('--out', prefix);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(mode(`${prefix}.key`), 0o600);
    assert.equal(mode(`${prefix}.pub`), 0o644);
    const priv = readFileSync(`${prefix}.key`, 'utf8');
    const pub = readFileSync(`${prefix}.pub`, 'utf8');
    assert.deepEqual(derivePublicKey(decodeKey(priv)), decodeKey(pub));
    assert.ok(!first.stdout.includes(priv.trim()), 'the private key is not printed when written to a file');

    const again = keygen('--out', prefix);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /--force/);
    assert.equal(readFileSync(`${prefix}.key`, 'utf8'), priv);

    const forced = keygen('--out', prefix, '--force');
    assert.equal(forced.status, 0, forced.stderr);
    assert.notEqual(readFileSync(`${prefix}.key`, 'utf8'), priv);
    assert.equal(mode(`${prefix}.key`), 0o600);
    assert.equal(mode(`${prefix}.pub`), 0o644);
  });

  it('prints the public key of a private key file with --public-of', () => {
    const file = join(dir, 'alice.key');
    // RFC 7748 section 6.1: Alice's private and public keys.
    writeFileSync(file, `${Buffer.from('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', 'hex').toString('base64url')}\n`);
    const r = keygen('--public-of', file);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), Buffer.from('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a', 'hex').toString('base64url'));
  });

  it('exits 2 on an unknown option', () => {
    assert.equal(keygen('--bogus').status, 2);
  });
});

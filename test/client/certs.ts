/**
 * Test PKI made with the openssl command line: a CA, a leaf certificate for 127.0.0.1 and
 * localhost signed by it, and an unrelated second CA (to prove a wrong caFile is refused).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export { SKIP_WITHOUT_OPENSSL } from '../shared/runtime/fixtures.ts';

/** Paths and the leaf's pin. */
export interface TestPki {
  caFile: string;
  otherCaFile: string;
  certFile: string;
  keyFile: string;
  /** SHA-256 of the leaf DER as openssl prints it (AA:BB:...). */
  leafPin: string;
  dispose(): void;
}

function openssl(args: string[]): string {
  const r = spawnSync('openssl', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  return r.stdout;
}

function makeCa(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.pem`);
  const key = join(dir, `${name}.key`);
  openssl([
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', `/CN=APFSDS test ${name}`, '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { cert, key };
}

/** Generates the PKI into a temp dir. */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'apfsds-pki-'));
  const ca = makeCa(dir, 'ca');
  const other = makeCa(dir, 'other-ca');
  const keyFile = join(dir, 'leaf.key');
  const csr = join(dir, 'leaf.csr');
  const certFile = join(dir, 'leaf.pem');
  const ext = join(dir, 'leaf.ext');
  writeFileSync(ext, 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
  openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', csr, '-subj', '/CN=localhost']);
  openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', certFile, '-days', '2', '-extfile', ext]);
  const printed = openssl(['x509', '-in', certFile, '-noout', '-fingerprint', '-sha256']);
  const leafPin = /=([0-9A-F:]+)/.exec(printed)?.[1];
  if (leafPin === undefined) throw new Error(`openssl printed no fingerprint: ${printed}`);
  return {
    caFile: ca.cert,
    otherCaFile: other.cert,
    certFile,
    keyFile,
    leafPin,
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

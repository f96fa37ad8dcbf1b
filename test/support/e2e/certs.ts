/**
 * Certificates for the WSS tests, made with the openssl command line: a CA and a leaf it
 * signs for localhost, 127.0.0.1 and ::1, plus the leaf's SHA-256 pin as openssl prints it.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A CA and a server certificate signed by it, as files. */
export interface TestPki {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** SHA-256 of the leaf certificate DER, "AA:BB:..." (the form client tls.pinSha256 takes). */
  pin: string;
}

const probe = spawnSync('openssl', ['version'], { encoding: 'utf8' });

/** The `skip` option for tests that need openssl: false, or the reason. */
export const SKIP_WITHOUT_OPENSSL: string | false =
  probe.error === undefined && probe.status === 0 ? false : 'openssl is not installed; the WSS tests make their certificates with it';

function openssl(args: string[]): string {
  const r = spawnSync('openssl', args, { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** Makes a CA named `name` and a leaf for localhost/127.0.0.1/::1 in `dir` (files prefixed with `name`). */
export function makePki(dir: string, name: string): TestPki {
  const caFile = join(dir, `${name}-ca.pem`);
  const caKey = join(dir, `${name}-ca.key`);
  const certFile = join(dir, `${name}-leaf.pem`);
  const keyFile = join(dir, `${name}-leaf.key`);
  const csr = join(dir, `${name}-leaf.csr`);
  const ext = join(dir, `${name}-leaf.ext`);
  openssl([
    'req', '-x509', ...EC, '-keyout', caKey, '-out', caFile, '-days', '2', '-subj', `/CN=${name} test CA`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  openssl(['req', ...EC, '-keyout', keyFile, '-out', csr, '-subj', '/CN=localhost']);
  writeFileSync(
    ext,
    'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' +
      'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n',
  );
  openssl([
    'x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-set_serial', String(Date.now()),
    '-out', certFile, '-days', '2', '-extfile', ext,
  ]);
  const printed = openssl(['x509', '-in', certFile, '-noout', '-fingerprint', '-sha256']);
  const pin = /=([0-9A-F:]+)/.exec(printed)?.[1];
  if (pin === undefined) throw new Error(`openssl x509 printed no fingerprint: ${printed}`);
  return { caFile, certFile, keyFile, pin };
}

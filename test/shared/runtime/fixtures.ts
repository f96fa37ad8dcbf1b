/**
 * Helpers for the runtime adapter tests: bounded waits, a raw TCP client that records every
 * byte, and a throwaway self-signed certificate made with the openssl command line.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Rejects if `promise` has not settled within `ms` (keeps every test bounded in time). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** A promise with its resolve function, for events. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** A raw TCP client that keeps every received byte and reports the peer's FIN. */
export interface RawClient {
  socket: net.Socket;
  received(): Buffer;
  ended: Promise<void>;
  /** Resolves once the received bytes contain `marker`. */
  waitFor(marker: string, ms: number): Promise<void>;
}

/** Connects a RawClient to 127.0.0.1:port. */
export async function rawConnect(port: number): Promise<RawClient> {
  const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  await within(new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('error', reject);
  }), 5_000, 'raw connect');
  const chunks: Buffer[] = [];
  const ended = deferred();
  const watchers = new Set<() => void>();
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    for (const check of watchers) check();
  });
  socket.on('end', () => ended.resolve());
  socket.on('close', () => ended.resolve());
  socket.on('error', () => {});
  const received = (): Buffer => Buffer.concat(chunks);
  return {
    socket,
    received,
    ended: ended.promise,
    waitFor(marker, ms) {
      return within(new Promise<void>((resolve) => {
        const check = (): void => {
          if (received().includes(marker)) {
            watchers.delete(check);
            resolve();
          }
        };
        watchers.add(check);
        check();
      }), ms, `bytes ${JSON.stringify(marker)}`);
    },
  };
}

/** A well-formed WebSocket upgrade request for `path` (RFC 6455 section 1.3 sample key). */
export function upgradeRequest(path: string, extra = ''): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n` +
    `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${extra}\r\n`
  );
}

/** Replaces the Date header value so responses at different instants compare equal. */
export function stripDate(text: string): string {
  return text.replace(/\r\nDate: [^\r]*/gi, '\r\nDate: X');
}

/** A self-signed certificate for localhost, 127.0.0.1 and ::1, written to a temp dir. */
export interface TestCert {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
  /** SHA-256 of the certificate DER as openssl prints it (AA:BB:...). */
  fingerprint: string;
  dispose(): void;
}

const probe = spawnSync('openssl', ['version'], { encoding: 'utf8' });
const hasOpenssl = probe.error === undefined && probe.status === 0;

/** The `skip` option for tests that need the openssl command: false, or the reason to skip. */
export const SKIP_WITHOUT_OPENSSL: string | false = hasOpenssl
  ? false
  : 'openssl is not installed (CI installs it); this test needs it to make a certificate';

/** Makes a TestCert with openssl, or returns null when openssl is not installed. */
export function makeTestCert(): TestCert | null {
  if (!hasOpenssl) return null;
  const dir = mkdtempSync(join(tmpdir(), 'apfsds-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const made = spawnSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
  ], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`openssl req failed: ${made.stderr}`);
  const printed = spawnSync('openssl', ['x509', '-in', certFile, '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' });
  const fingerprint = /=([0-9A-F:]+)/.exec(printed.stdout)?.[1];
  if (fingerprint === undefined) throw new Error(`openssl x509 printed no fingerprint: ${printed.stdout}`);
  return {
    certFile,
    keyFile,
    cert: readFileSync(certFile, 'utf8'),
    key: readFileSync(keyFile, 'utf8'),
    fingerprint,
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { codedError, ErrorCode, type CodedError } from '../errors.ts';
import { awaitSocketConnect, hostPort } from './tcp.ts';

/** Certificate and key for a TLS listener: PEM strings or file paths (one pair or the other). */
export interface ServerTlsOptions {
  cert?: string;
  key?: string;
  certFile?: string;
  keyFile?: string;
}

/**
 * How a client verifies the server. Default: the runtime's trust store (Node's bundled Mozilla
 * roots; Deno's configured store) plus a host name check.
 * - `ca` / `caFile`: trust these PEM CA certificates instead of the default store.
 * - `pinSha256`: SHA-256 of the server's leaf certificate DER, hex (colons allowed, as printed
 *   by `openssl x509 -noout -fingerprint -sha256`) or standard base64. With a pin and no CA the
 *   pin alone decides (self-signed certificates work, no name check); with both, both must pass.
 * - `servername`: SNI and the name checked (defaults to the URL host unless it is an IP).
 * - `insecure`: no verification at all (local development only).
 */
export interface ClientTlsOptions {
  ca?: string;
  caFile?: string;
  pinSha256?: string | readonly string[];
  servername?: string;
  insecure?: boolean;
}

/** Why a server certificate was refused: not chained to a trusted CA, wrong host name, or pin mismatch. */
export type TlsVerifyReason = 'untrusted' | 'hostname' | 'pin';

/** The TLS_VERIFY error: `reason` tells the CA and name checks from a pin mismatch. */
export type TlsVerifyError = CodedError & { reason: TlsVerifyReason };

const HEX_PIN = /^(?:[0-9a-fA-F]{2}:?){31}[0-9a-fA-F]{2}$/;
const BASE64_PIN = /^[A-Za-z0-9+/]{43}=$/;

/** Decodes a pin (hex with optional colons, or base64) into its 32 bytes; BAD_CONFIG otherwise. */
export function parsePinSha256(pin: string): Uint8Array {
  const text = pin.trim();
  if (HEX_PIN.test(text)) return new Uint8Array(Buffer.from(text.replaceAll(':', ''), 'hex'));
  if (BASE64_PIN.test(text)) return new Uint8Array(Buffer.from(text, 'base64'));
  throw codedError(
    RangeError,
    ErrorCode.BAD_CONFIG,
    'tls.pinSha256 must be a SHA-256 digest as 64 hex digits (colons allowed) or 44 base64 characters',
  );
}

/** SHA-256 of a certificate's DER bytes: the value pinSha256 compares against. */
export function certificateSha256(der: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(der).digest());
}

/** DER bytes of the first certificate in a PEM text; BAD_CONFIG if there is none. */
export function pemToDer(pem: string): Uint8Array {
  try {
    return new Uint8Array(new X509Certificate(pem).raw);
  } catch (err) {
    throw codedError(TypeError, ErrorCode.BAD_CONFIG, 'Expected a PEM certificate (-----BEGIN CERTIFICATE-----)', err);
  }
}

/** The pin of a PEM certificate in both accepted spellings, for operators to copy into config. */
export function pinOfPem(pem: string): { hex: string; base64: string } {
  const digest = Buffer.from(certificateSha256(pemToDer(pem)));
  return { hex: digest.toString('hex'), base64: digest.toString('base64') };
}

function readPem(path: string, field: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw codedError(Error, ErrorCode.BAD_CONFIG, `Could not read ${field} ${path}: ${(err as Error).message}`, err);
  }
}

/** Resolves ServerTlsOptions to PEM strings, reading files when paths were given. */
export function loadServerTls(options: ServerTlsOptions): { cert: string; key: string } {
  const cert = options.cert ?? (options.certFile !== undefined ? readPem(options.certFile, 'tls.certFile') : undefined);
  const key = options.key ?? (options.keyFile !== undefined ? readPem(options.keyFile, 'tls.keyFile') : undefined);
  if (cert === undefined || key === undefined) {
    throw codedError(TypeError, ErrorCode.BAD_CONFIG, 'tls needs a certificate and a key: cert/key PEM strings or certFile/keyFile paths');
  }
  return { cert, key };
}

function verifyError(reason: TlsVerifyReason, message: string, cause?: unknown): TlsVerifyError {
  const err = codedError(Error, ErrorCode.TLS_VERIFY, message, cause) as TlsVerifyError;
  err.reason = reason;
  return err;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/** Applies the ClientTlsOptions policy to a completed handshake; null when the peer is accepted. */
function checkPeer(socket: tls.TLSSocket, pins: readonly Uint8Array[], customCa: boolean, options: ClientTlsOptions, what: string): TlsVerifyError | null {
  if (options.insecure === true) return null;
  if (pins.length > 0) {
    const raw = socket.getPeerCertificate().raw as Buffer | undefined;
    if (raw === undefined) return verifyError('pin', `Server ${what} sent no certificate to check against tls.pinSha256`);
    const digest = certificateSha256(raw);
    if (!pins.some((pin) => equalBytes(pin, digest))) {
      return verifyError('pin', `Server ${what} certificate SHA-256 ${Buffer.from(digest).toString('hex')} matches none of tls.pinSha256`);
    }
    if (!customCa) return null;
  }
  if (socket.authorized) return null;
  const cause = String(socket.authorizationError ?? 'unknown');
  if (cause === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return verifyError('hostname', `Server ${what} certificate is not valid for the requested name (${cause})`, cause);
  }
  return verifyError(
    'untrusted',
    `Server ${what} certificate is not signed by a trusted CA (${cause}); set tls.caFile or tls.pinSha256 to trust it`,
    cause,
  );
}

/**
 * Opens a TLS connection (ALPN http/1.1, for the WebSocket upgrade) and verifies it with the
 * ClientTlsOptions policy before anything is written. Verification is done here rather than
 * by rejectUnauthorized so a failure can say whether the CA, the name or the pin was wrong.
 * Rejects with TLS_VERIFY, CONNECT_FAILED, TIMEOUT or ABORTED. Runtime-internal.
 */
export async function connectTls(host: string, port: number, options: ClientTlsOptions, signal: AbortSignal): Promise<tls.TLSSocket> {
  const pinList = options.pinSha256 === undefined ? [] : typeof options.pinSha256 === 'string' ? [options.pinSha256] : options.pinSha256;
  const pins = pinList.map(parsePinSha256);
  const ca = options.ca ?? (options.caFile !== undefined ? readPem(options.caFile, 'tls.caFile') : undefined);
  const servername = options.servername ?? (net.isIP(host) === 0 ? host : undefined);
  const what = hostPort(host, port);
  const socket = tls.connect({
    host,
    port,
    ALPNProtocols: ['http/1.1'],
    rejectUnauthorized: false,
    ...(servername !== undefined ? { servername } : {}),
    ...(ca !== undefined ? { ca } : {}),
  });
  await awaitSocketConnect(socket, 'secureConnect', what, signal);
  const refused = checkPeer(socket, pins, ca !== undefined, options, what);
  if (refused !== null) {
    socket.destroy();
    throw refused;
  }
  socket.setNoDelay(true);
  return socket;
}

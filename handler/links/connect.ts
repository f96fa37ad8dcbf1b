/**
 * Establishing links (DATAPLANE.md, link contract). Dial mode: the handler dials the exit's URL
 * and runs Noise KK as initiator (static = cluster key, remote = the exit's registered key).
 * Reverse mode: the exit dials the handler's links.path and initiates KK; the handler, as
 * responder, does not know which exit is calling, so it tries the registered reverse-mode exit
 * keys in turn on message 1 (trial decryption: one DH and one AEAD open per candidate, cheap
 * for the handful of exits a cluster has). Unknown callers get nothing back (the caller drains
 * and drops the socket, like a failed client handshake).
 *
 * TLS on a dial-mode link is not verified against a CA: the link is authenticated end to end
 * by Noise KK (both static keys are known beforehand), so a certificate adds no security and
 * would force every exit to hold a publicly trusted one; TLS there only makes the link look
 * like ordinary HTTPS.
 */
import { connectLink } from '../../shared/channel/connect.ts';
import { respond, type AcceptOutcome, type ChannelEstablished, type HelloTemplate } from '../../shared/channel/handshake.ts';
import { decodeBase64Url } from '../../shared/config/base64url.ts';
import { constantTimeEqual } from '../../shared/crypto/bytes.ts';
import type { ReplayGuard } from '../../shared/crypto/replay-guard.ts';
import { createLinkResponder } from '../../shared/crypto/session.ts';
import type { StaticKey } from '../../shared/crypto/static-key.ts';
import { codedError, ErrorCode } from '../../shared/errors.ts';
import { Role } from '../../shared/protocol/hello.ts';
import { dialWebSocket, type DialWebSocketOptions } from '../../shared/runtime/ws-client.ts';
import type { WsConnection } from '../../shared/runtime/websocket.ts';
import type { ExitRecord } from '../state/types.ts';

/** The WebSocket dialer (tests may wrap it). */
export type LinkDialer = (url: string, options: DialWebSocketOptions) => Promise<WsConnection>;

/** Options of dialExitLink(). */
export interface DialLinkOptions {
  staticKey: StaticKey;
  hello: HelloTemplate;
  /** Deadline for TCP, TLS, upgrade and handshake together (links.dialTimeout). */
  timeoutMs: number;
  signal?: AbortSignal;
  dial?: LinkDialer;
}

/** The 32 raw bytes of a registry key, or a BAD_KEY error. */
export function exitKeyBytes(exit: Pick<ExitRecord, 'id' | 'publicKey'>): Uint8Array {
  const bytes = decodeBase64Url(exit.publicKey);
  if (bytes === undefined || bytes.length !== 32) {
    throw codedError(RangeError, ErrorCode.BAD_KEY, `Exit ${exit.id} has a public key that is not 32 bytes of base64url`);
  }
  return bytes;
}

/** Dials a dial-mode exit and runs the KK handshake as initiator. Rejects with TIMEOUT, CONNECT_FAILED, HANDSHAKE, ... */
export async function dialExitLink(exit: ExitRecord, o: DialLinkOptions): Promise<ChannelEstablished> {
  if (exit.url === null) throw codedError(RangeError, ErrorCode.BAD_CONFIG, `Exit ${exit.id} has no url to dial`);
  const started = Date.now();
  const dial = o.dial ?? dialWebSocket;
  const ws = await dial(exit.url, {
    timeoutMs: o.timeoutMs,
    // Noise KK authenticates both ends with keys known beforehand; TLS on a link only hides it
    // from observers, so exits may use self-signed certificates (docs/security.md).
    tls: { insecure: true },
    ...(o.signal === undefined ? {} : { signal: o.signal }),
  });
  const left = Math.max(1, o.timeoutMs - (Date.now() - started));
  const est = await connectLink(ws, {
    staticKey: o.staticKey,
    remoteStatic: exitKeyBytes(exit),
    hello: o.hello,
    timeoutMs: left,
    ...(o.signal === undefined ? {} : { signal: o.signal }),
  });
  if (est.remoteHello.nodeId !== '' && est.remoteHello.nodeId !== exit.id) {
    est.channel.terminate();
    throw codedError(Error, ErrorCode.HANDSHAKE, `Exit at ${exit.url} calls itself "${est.remoteHello.nodeId}", expected "${exit.id}"`);
  }
  return est;
}

/** Options of acceptExitLink(). */
export interface AcceptLinkOptions {
  staticKey: StaticKey;
  /** Registered reverse-mode exits that may call (not disabled). */
  candidates: readonly ExitRecord[];
  hello: HelloTemplate;
  replayGuard: ReplayGuard;
  timeoutMs: number;
  now?: () => number;
}

/**
 * Handler side of a reverse-mode link: KK responder over the candidates' keys. Resolves with
 * the calling exit's record, or a refusal having sent nothing (the caller drains the socket).
 */
export function acceptExitLink(ws: WsConnection, o: AcceptLinkOptions): Promise<AcceptOutcome<ExitRecord>> {
  const keyed: Array<{ exit: ExitRecord; key: Uint8Array }> = [];
  for (const exit of o.candidates) {
    try {
      keyed.push({ exit, key: exitKeyBytes(exit) });
    } catch {
      // A malformed registry key cannot authenticate anyone; skip it.
    }
  }
  const states = keyed.map(({ key }) => createLinkResponder({ staticKey: o.staticKey, remoteStatic: key }));
  return respond<ExitRecord>(ws, {
    states,
    expectRole: Role.EXIT,
    hello: o.hello,
    replayGuard: o.replayGuard,
    timeoutMs: o.timeoutMs,
    ...(o.now === undefined ? {} : { now: o.now }),
    authorize: (remoteKey, hello) => {
      const match = keyed.find(({ key }) => constantTimeEqual(key, remoteKey));
      if (match === undefined) return false;
      // The hello names the exit; an empty name is tolerated, a wrong one is not.
      if (hello.nodeId !== '' && hello.nodeId !== match.exit.id) return false;
      return match.exit;
    },
  });
}

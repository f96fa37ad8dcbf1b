/**
 * Dialing one client session (docs/protocol.md section 1): a WebSocket to the handler URL
 * (TLS verified per shared/runtime/tls.ts for wss://), Noise IK as initiator with the user's
 * static key and the cluster public key, a hello carrying the preferred region, then a
 * MuxSession as stream opener with the configured keepalive.
 */
import { connectSession, type HelloTemplate } from '../shared/channel/index.ts';
import type { StaticKey } from '../shared/crypto/static-key.ts';
import { codedError, ErrorCode, hasCode } from '../shared/errors.ts';
import { muxOptionsFromHellos } from '../shared/mux/hellos.ts';
import { MuxRole, type WindowGrowth } from '../shared/mux/options.ts';
import { MuxSession } from '../shared/mux/session.ts';
import { DEFAULT_MAX_FRAME_LENGTH, DEFAULT_MAX_STREAMS, DEFAULT_STREAM_WINDOW } from '../shared/protocol/constants.ts';
import { Capability, PaddingPolicy, Role } from '../shared/protocol/hello.ts';
import { armDeadline } from '../shared/runtime/deadline.ts';
import type { ClientTlsOptions } from '../shared/runtime/tls.ts';
import { dialWebSocket } from '../shared/runtime/ws-client.ts';
import type { DialHooks, SessionDialer } from './session-pool.ts';

/**
 * Session-level receive window the client grants: 4 MiB, the handler's default too
 * (LIMIT_DEFAULTS.sessionWindow). A client holds few sessions, so memory is not the constraint
 * here; the window bounds download throughput per session to window / RTT.
 */
export const CLIENT_SESSION_WINDOW = 4 << 20;

/** Where a session dial failed: reaching the handler (TCP, TLS, upgrade) or the Noise handshake. */
export type DialStage = 'connect' | 'handshake';

/** A dial error with the stage it failed in. */
export type SessionDialError = Error & { code?: string; stage: DialStage };

/** What every session of one client shares. */
export interface SessionDialOptions {
  /** The user's static key (Noise IK initiator static). */
  readonly staticKey: StaticKey;
  /** The handler cluster's public key (Noise IK responder static). */
  readonly clusterPublicKey: Uint8Array;
  /** Certificate checks for wss:// URLs. */
  readonly tls: ClientTlsOptions;
  /** Preferred exit region ('' = any). */
  readonly region: string;
  /** Deadline for WebSocket dial plus Noise handshake. */
  readonly handshakeTimeoutMs: number;
  /** Mux keepalive: PING after this long without input; 0 disables. */
  readonly keepaliveIntervalMs: number;
  /** Mux keepalive: dead when nothing arrives this long after the PING. */
  readonly keepaliveTimeoutMs: number;
  /** OPEN_OK deadline default of the session. */
  readonly openTimeoutMs: number;
  /** Window auto-tuning: one budget for every session of the client; default the mux defaults. */
  readonly windows?: WindowGrowth;
}

/**
 * The client's hello (docs/protocol.md 4.1): UDP capability, protocol default frame and
 * stream limits, a larger session window, and RANDOM padding asked of the handler (8-255
 * bytes per message, well under 1% of bulk traffic, blurs message sizes on the downstream).
 */
export function clientHello(region: string): HelloTemplate {
  return {
    role: Role.CLIENT,
    paddingPolicy: PaddingPolicy.RANDOM,
    capabilities: Capability.UDP,
    maxFrameLength: DEFAULT_MAX_FRAME_LENGTH,
    streamWindow: DEFAULT_STREAM_WINDOW,
    sessionWindow: CLIENT_SESSION_WINDOW,
    maxStreams: DEFAULT_MAX_STREAMS,
    nodeId: '',
    region,
  };
}

function withStage(err: unknown, stage: DialStage): SessionDialError {
  const e = err instanceof Error ? err : codedError(Error, ErrorCode.CONNECT_FAILED, String(err));
  return Object.assign(e, { stage });
}

/** Builds the dialer the session pool calls for each attempt. */
export function createSessionDialer(o: SessionDialOptions): SessionDialer {
  const hello = clientHello(o.region);
  return async (url: string, hooks: DialHooks): Promise<MuxSession> => {
    const deadline = armDeadline('Session dial', { signal: hooks.signal, timeoutMs: o.handshakeTimeoutMs }, o.handshakeTimeoutMs);
    try {
      let ws;
      try {
        ws = await dialWebSocket(url, { signal: deadline.signal, timeoutMs: o.handshakeTimeoutMs, tls: o.tls });
      } catch (err) {
        throw withStage(err, 'connect');
      }
      let est;
      try {
        est = await connectSession(ws, {
          staticKey: o.staticKey,
          remoteStatic: o.clusterPublicKey,
          hello,
          timeoutMs: o.handshakeTimeoutMs,
          signal: deadline.signal,
        });
      } catch (err) {
        throw withStage(err, 'handshake');
      }
      return new MuxSession(est.channel, {
        role: MuxRole.OPENER,
        ...muxOptionsFromHellos(est.localHello, est.remoteHello),
        keepaliveIntervalMs: o.keepaliveIntervalMs,
        keepaliveTimeoutMs: o.keepaliveTimeoutMs,
        openTimeoutMs: o.openTimeoutMs,
        ...o.windows,
        onGoAway: () => hooks.onGoAway(),
      });
    } finally {
      deadline.clear();
    }
  };
}

/** scheme://host:port of a handler URL: what logs may show (the path is a secret). */
export function urlOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}

/**
 * One operator-facing sentence for a failed dial, saying which check failed: a TLS CA or host
 * name problem versus a pin mismatch, an HTTP answer instead of an upgrade, or a Noise
 * handshake the handler left unanswered (it answers unknown keys with silence, by design).
 */
export function describeDialError(err: unknown, origin: string): string {
  const e = err as { code?: string; reason?: string; status?: number; stage?: DialStage; message?: string };
  if (hasCode(err, ErrorCode.TLS_VERIFY)) {
    if (e.reason === 'pin') {
      return `TLS pin mismatch for handler ${origin}: its certificate matches none of tls.pinSha256`;
    }
    if (e.reason === 'hostname') {
      return `TLS CA check failed for handler ${origin}: the certificate is not valid for that host name`;
    }
    return `TLS CA check failed for handler ${origin}: the certificate is not signed by a trusted CA (tls.caFile, or the system CAs when unset)`;
  }
  if (hasCode(err, ErrorCode.UPGRADE_FAILED)) {
    const status = e.status === undefined ? '' : ` with HTTP ${e.status}`;
    return `Handler ${origin} refused the WebSocket upgrade${status}; check the URL path`;
  }
  if (e.stage === 'handshake') {
    return `Noise handshake with handler ${origin} failed (${e.code ?? 'error'}); check clusterPublicKey and that this user's key is registered and active`;
  }
  if (hasCode(err, ErrorCode.TIMEOUT)) return `Handler ${origin} did not answer in time`;
  return `Could not reach handler ${origin}: ${e.message ?? String(err)}`;
}

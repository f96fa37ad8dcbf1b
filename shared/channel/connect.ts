/**
 * The product handshakes on a WebSocket (shared/crypto/session.ts fixes the Noise suites):
 * - client sessions: Noise IK; the client (initiator) knows the handler cluster key, the handler
 *   (responder) learns the user's key from message 1 and asks `authorize`;
 * - links: Noise KK; `connectLink`/`acceptLink` are the dial-mode pair (the handler dials and
 *   initiates, the exit responds knowing the cluster key). In reverse mode the exit dials and
 *   initiates, and the handler responds over its list of exit keys (handler/links/connect.ts and
 *   exit/link/dialer.ts use `initiate`/`respond` from handshake.ts directly).
 * Each returns a SecureChannel ready for a MuxSession (`muxOptionsFromHellos`).
 */
import { createLinkInitiator, createLinkResponder, createSessionInitiator, createSessionResponder, type ProductHandshakeOptions } from '../crypto/session.ts';
import type { ReplayGuard } from '../crypto/replay-guard.ts';
import type { StaticKey } from '../crypto/static-key.ts';
import { Role, type Hello } from '../protocol/hello.ts';
import type { WsConnection } from '../runtime/websocket.ts';
import {
  initiate,
  respond,
  type AcceptOutcome,
  type Authorize,
  type ChannelEstablished,
  type HandshakeTiming,
  type HelloTemplate,
} from './handshake.ts';

/** Noise settings shared by every handshake here. */
export interface NoiseSettings {
  /** This side's static key. */
  staticKey: StaticKey;
  /** Prologue override (default: the product prologue of the handshake). */
  prologue?: Uint8Array;
  /** Lockstep rekey interval of the transport ciphers (default 2^20 messages). */
  rekeyInterval?: number;
}

/** Options of connectSession(). */
export interface ConnectSessionOptions extends NoiseSettings, HandshakeTiming {
  /** The handler cluster's static public key. */
  remoteStatic: Uint8Array;
  /** Our hello (role CLIENT); the timestamp is set when message 1 is written. */
  hello: HelloTemplate;
}

/** Options of acceptSession(). */
export interface AcceptSessionOptions<A> extends NoiseSettings, HandshakeTiming {
  /** Our hello (role HANDLER), or a function of the client's hello. */
  hello: HelloTemplate | ((remote: Hello) => HelloTemplate);
  /** Looks the user's key up; return what the session needs (e.g. the user record) or false to refuse. */
  authorize: Authorize<A>;
  replayGuard: ReplayGuard;
}

/** Options of connectLink(). */
export interface ConnectLinkOptions extends NoiseSettings, HandshakeTiming {
  /** The exit's static public key (from the exit registry). */
  remoteStatic: Uint8Array;
  /** Our hello (role HANDLER). */
  hello: HelloTemplate;
}

/** Options of acceptLink(). */
export interface AcceptLinkOptions<A> extends NoiseSettings, HandshakeTiming {
  /** The handler cluster key, or several candidates tried in order (KK needs it before message 1). */
  remoteStatic: Uint8Array | readonly Uint8Array[];
  /** Our hello (role EXIT), or a function of the handler's hello. */
  hello: HelloTemplate | ((remote: Hello) => HelloTemplate);
  /** Extra check once the key is proven (default: accept). */
  authorize?: Authorize<A>;
  replayGuard: ReplayGuard;
}

function noise(o: NoiseSettings): ProductHandshakeOptions {
  const out: ProductHandshakeOptions = { staticKey: o.staticKey };
  if (o.prologue !== undefined) out.prologue = o.prologue;
  if (o.rekeyInterval !== undefined) out.rekeyInterval = o.rekeyInterval;
  return out;
}

/** Client: Noise IK initiator. Rejects with TIMEOUT, ABORTED, CLOSED or HANDSHAKE (the socket is dropped). */
export function connectSession(ws: WsConnection, o: ConnectSessionOptions): Promise<ChannelEstablished> {
  const state = createSessionInitiator({ ...noise(o), remoteStatic: o.remoteStatic });
  return initiate(ws, state, o.hello, Role.HANDLER, o);
}

/**
 * Handler: Noise IK responder. Resolves `{ ok: false, reason }` for silence, garbage, an
 * unknown or refused key or a replay, having sent nothing; the caller then absorbs and drops the socket.
 */
export function acceptSession<A>(ws: WsConnection, o: AcceptSessionOptions<A>): Promise<AcceptOutcome<A>> {
  return respond(ws, { ...o, states: [createSessionResponder(noise(o))], expectRole: Role.CLIENT });
}

/** Handler: Noise KK initiator towards an exit. Rejects like connectSession(). */
export function connectLink(ws: WsConnection, o: ConnectLinkOptions): Promise<ChannelEstablished> {
  const state = createLinkInitiator({ ...noise(o), remoteStatic: o.remoteStatic });
  return initiate(ws, state, o.hello, Role.EXIT, o);
}

/** Exit: Noise KK responder. Resolves like acceptSession(). */
export function acceptLink<A = true>(ws: WsConnection, o: AcceptLinkOptions<A>): Promise<AcceptOutcome<A>> {
  const candidates = o.remoteStatic instanceof Uint8Array ? [o.remoteStatic] : o.remoteStatic;
  const states = candidates.map((rs) => createLinkResponder({ ...noise(o), remoteStatic: rs }));
  const authorize: Authorize<A> = o.authorize ?? (() => true as A);
  return respond(ws, { ...o, authorize, states, expectRole: Role.HANDLER });
}

/**
 * The product's two handshakes, fixed here so every role agrees on them (docs/crypto.md says
 * why these suites):
 * - client session (client -> handler): Noise IK; the client knows the handler cluster key, the
 *   handler learns the user's key from message 1 and looks it up in the replicated state;
 * - link (handler <-> exit): Noise KK; both sides know each other's key beforehand.
 * The KK initiator is whoever dialled the socket: the handler for exits it dials, the exit in
 * reverse mode (the handler then tries its registered exit keys on message 1; docs/crypto.md 2.3).
 */
import { HandshakeState } from './handshake-state.ts';
import type { StaticKey } from './static-key.ts';
import type { DhPublicKey } from './types.ts';

/** The client-session protocol. */
export const SESSION_PROTOCOL = 'Noise_IK_25519_ChaChaPoly_SHA256';
/** The handler<->exit link protocol. */
export const LINK_PROTOCOL = 'Noise_KK_25519_ChaChaPoly_SHA256';
/** Default prologue of client sessions (both sides must use the same bytes; section 6). */
export const SESSION_PROLOGUE: Uint8Array = new TextEncoder().encode('apfsds session v1');
/** Default prologue of handler<->exit links. */
export const LINK_PROLOGUE: Uint8Array = new TextEncoder().encode('apfsds link v1');

/** Options shared by the product handshakes. */
export interface ProductHandshakeOptions {
  /** This side's static key (its backend is used for the whole session). */
  staticKey: StaticKey;
  /** Prologue bytes both sides agree on (default SESSION_PROLOGUE or LINK_PROLOGUE). */
  prologue?: Uint8Array;
  /** Lockstep rekey interval of the transport CipherStates (default 2^20 messages). */
  rekeyInterval?: number;
}

/** Options of a handshake whose peer key is known beforehand. */
export interface KnownPeerOptions extends ProductHandshakeOptions {
  /** The peer's static public key (raw 32 bytes, or a handle from staticKey.remote()). */
  remoteStatic: Uint8Array | DhPublicKey;
}

function build(
  protocol: string,
  initiator: boolean,
  defaultPrologue: Uint8Array,
  options: ProductHandshakeOptions,
  rs?: Uint8Array | DhPublicKey,
): HandshakeState {
  return new HandshakeState({
    protocol,
    initiator,
    s: options.staticKey,
    prologue: options.prologue ?? defaultPrologue,
    ...(rs === undefined ? {} : { rs }),
    ...(options.rekeyInterval === undefined ? {} : { rekeyInterval: options.rekeyInterval }),
  });
}

/**
 * The client side of a session: writeMessage(payload1) -> readMessage(message2) -> split().
 * `remoteStatic` is the handler cluster key.
 */
export function createSessionInitiator(options: KnownPeerOptions): HandshakeState {
  return build(SESSION_PROTOCOL, true, SESSION_PROLOGUE, options, options.remoteStatic);
}

/**
 * The handler side of a session: readMessage(message1) (then remoteStaticKey is the user's key;
 * handshakeHash is the replay-cache id) -> writeMessage(payload2) -> split().
 */
export function createSessionResponder(options: ProductHandshakeOptions): HandshakeState {
  return build(SESSION_PROTOCOL, false, SESSION_PROLOGUE, options);
}

/** The initiating side of a handler<->exit link (KK): writeMessage -> readMessage -> split(). */
export function createLinkInitiator(options: KnownPeerOptions): HandshakeState {
  return build(LINK_PROTOCOL, true, LINK_PROLOGUE, options, options.remoteStatic);
}

/** The responding side of a handler<->exit link (KK): readMessage -> writeMessage -> split(). */
export function createLinkResponder(options: KnownPeerOptions): HandshakeState {
  return build(LINK_PROTOCOL, false, LINK_PROLOGUE, options, options.remoteStatic);
}

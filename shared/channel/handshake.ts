/**
 * The two halves of every channel handshake, shared by client sessions (Noise IK) and links
 * (Noise KK): one message each way, each carrying a hello (docs/protocol.md section 4).
 *
 * The responder is written for probe resistance (docs/architecture.md section 3): whatever goes
 * wrong (silence, garbage, a bad or replayed message 1, an unknown or refused key) it sends
 * nothing at all, leaves the socket open and paused, and reports why to its caller, which
 * drains the socket until a timeout and then drops it like an idle one (`absorbThenClose`).
 */
import { codedError, ErrorCode, hasCode } from '../errors.ts';
import type { HandshakeState } from '../crypto/handshake-state.ts';
import type { ReplayGuard } from '../crypto/replay-guard.ts';
import { decodeHello, encodeHello, type Hello, type RoleValue } from '../protocol/hello.ts';
import { armDeadline } from '../runtime/deadline.ts';
import type { WsConnection } from '../runtime/websocket.ts';
import { nextMessage } from './handshake-io.ts';
import { SecureChannel } from './secure-channel.ts';

/** Default handshake deadline (docs/architecture.md section 7: every limit has a default). */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** A hello to send; its timestamp is filled in at send time unless given. */
export type HelloTemplate = Omit<Hello, 'timestamp'> & { timestamp?: number };

/** What both sides get once the handshake succeeded. */
export interface ChannelEstablished {
  /** The encrypted transport; hand it to a MuxSession. */
  channel: SecureChannel;
  /** The hello we sent (with its timestamp). */
  localHello: Hello;
  /** The peer's hello. */
  remoteHello: Hello;
  /** The peer's static public key (the user's key on a session). */
  remoteStaticKey: Uint8Array;
  /** Noise handshake hash (channel binding; the replay cache id of message 1). */
  handshakeHash: Uint8Array;
  /** Peer's clock minus ours when its hello arrived, in ms (log it; only the responder enforces). */
  clockSkewMs: number;
}

/** Why a responder refused a handshake. */
export type HandshakeRefusal = 'timeout' | 'closed' | 'handshake' | 'hello' | 'denied' | 'replay';

/** A responder's result: the channel and the caller's authorization, or why it was refused. */
export type AcceptOutcome<A> =
  | ({ ok: true; auth: A } & ChannelEstablished)
  | { ok: false; reason: HandshakeRefusal; error: Error };

/** Deadline, cancellation and clock of one handshake. */
export interface HandshakeTiming {
  /** Whole-handshake deadline in ms (default 10 s). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Wall clock in ms for hello timestamps (default Date.now). */
  now?: () => number;
}

/** Decides whether a peer that proved its static key may connect; a falsy answer refuses. */
export type Authorize<A> = (remoteStaticKey: Uint8Array, hello: Hello) => A | false | null | undefined | Promise<A | false | null | undefined>;

function stamp(template: HelloTemplate, now: () => number): Hello {
  return { ...template, timestamp: template.timestamp ?? now() };
}

function helloOf(payload: Uint8Array, role: RoleValue): Hello {
  const hello = decodeHello(payload);
  if (hello.role !== role) throw codedError(Error, ErrorCode.HANDSHAKE, `Peer hello has role ${hello.role}, expected ${role}`);
  return hello;
}

/** Initiator: sends message 1, reads message 2. Rejects with TIMEOUT, ABORTED, CLOSED or HANDSHAKE and drops the socket. */
export async function initiate(
  ws: WsConnection,
  state: HandshakeState,
  hello: HelloTemplate,
  expectRole: RoleValue,
  timing: HandshakeTiming,
): Promise<ChannelEstablished> {
  const now = timing.now ?? Date.now;
  const deadline = armDeadline('Channel handshake', timing, DEFAULT_HANDSHAKE_TIMEOUT_MS);
  try {
    const localHello = stamp(hello, now);
    ws.send(state.writeMessage(encodeHello(localHello)));
    const message2 = await nextMessage(ws, deadline.signal);
    const remoteHello = helloOf(state.readMessage(message2), expectRole);
    const pair = state.split();
    return {
      channel: new SecureChannel(ws, pair),
      localHello,
      remoteHello,
      remoteStaticKey: pair.remoteStaticKey!,
      handshakeHash: pair.handshakeHash,
      clockSkewMs: remoteHello.timestamp - now(),
    };
  } catch (err) {
    state.destroy();
    ws.terminate();
    throw hasCode(err, ErrorCode.TRUNCATED) ? codedError(Error, ErrorCode.HANDSHAKE, 'Peer hello is truncated', err) : err;
  } finally {
    deadline.clear();
  }
}

/** Options of the responder half. */
export interface RespondOptions<A> extends HandshakeTiming {
  /** Handshake states to try on message 1 in order (KK with several candidate peer keys); one for IK. */
  states: HandshakeState[];
  /** Role the initiator's hello must carry. */
  expectRole: RoleValue;
  /** Our hello, possibly depending on the peer's. */
  hello: HelloTemplate | ((remote: Hello) => HelloTemplate);
  authorize: Authorize<A>;
  /** Refuses stale, future and replayed message 1 (docs/protocol.md 4.3). */
  replayGuard: ReplayGuard;
}

/** Responder: reads message 1, authorizes, checks replay, answers message 2. Never rejects, never sends on failure. */
export async function respond<A>(ws: WsConnection, o: RespondOptions<A>): Promise<AcceptOutcome<A>> {
  const now = o.now ?? Date.now;
  const refuse = (reason: HandshakeRefusal, error: Error): AcceptOutcome<A> => {
    for (const s of o.states) s.destroy();
    return { ok: false, reason, error };
  };
  let deadline;
  try {
    deadline = armDeadline('Channel handshake', o, DEFAULT_HANDSHAKE_TIMEOUT_MS);
  } catch (err) {
    // A bad timeoutMs (BAD_CONFIG): refuse rather than throw, as promised.
    return refuse('handshake', err as Error);
  }
  try {
    let message1: Uint8Array;
    try {
      message1 = await nextMessage(ws, deadline.signal);
    } catch (err) {
      return refuse(hasCode(err, ErrorCode.CLOSED) ? 'closed' : 'timeout', err as Error);
    }
    let state: HandshakeState | undefined;
    let payload: Uint8Array | undefined;
    let lastError: unknown;
    for (const candidate of o.states) {
      try {
        payload = candidate.readMessage(message1);
        state = candidate;
        break;
      } catch (err) {
        lastError = err;
      }
    }
    if (state === undefined || payload === undefined) {
      return refuse('handshake', codedError(Error, ErrorCode.HANDSHAKE, 'Message 1 was refused', lastError));
    }
    let remoteHello: Hello;
    try {
      remoteHello = helloOf(payload, o.expectRole);
    } catch (err) {
      return refuse('hello', codedError(Error, ErrorCode.HANDSHAKE, 'Message 1 carries no valid hello', err));
    }
    const remoteStaticKey = state.remoteStaticKey!;
    let auth: A | false | null | undefined;
    try {
      auth = await Promise.race([o.authorize(remoteStaticKey, remoteHello), aborted(deadline.signal)]);
    } catch (err) {
      if (deadline.signal.aborted) return refuse('timeout', err as Error);
      return refuse('denied', codedError(Error, ErrorCode.AUTH_FAILED, 'Authorization failed', err));
    }
    if (auth === false || auth === null || auth === undefined) {
      return refuse('denied', codedError(Error, ErrorCode.AUTH_FAILED, 'Peer key is not authorized'));
    }
    // Only authorized peers reach the replay cache, so strangers cannot fill it.
    const verdict = o.replayGuard.check(remoteHello.timestamp, state.handshakeHash);
    if (verdict !== 'accepted') return refuse('replay', codedError(Error, ErrorCode.REPLAY, `Message 1 refused by the replay guard: ${verdict}`));
    if (deadline.signal.aborted) return refuse('timeout', deadline.signal.reason as Error);
    const template = typeof o.hello === 'function' ? o.hello(remoteHello) : o.hello;
    const localHello = stamp(template, now);
    ws.send(state.writeMessage(encodeHello(localHello)));
    const pair = state.split();
    for (const s of o.states) if (s !== state) s.destroy();
    return {
      ok: true,
      auth,
      channel: new SecureChannel(ws, pair),
      localHello,
      remoteHello,
      remoteStaticKey,
      handshakeHash: pair.handshakeHash,
      clockSkewMs: remoteHello.timestamp - now(),
    };
  } catch (err) {
    // Our own hello failed to encode, or a bug: still nothing was sent.
    return refuse('handshake', err as Error);
  } finally {
    deadline.clear();
  }
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/**
 * What a responder does after a refusal: keep reading and discarding whatever the peer sends
 * until `ms` elapse (or it leaves), then drop the socket without a close frame, like a server
 * closing an idle connection, so a prober learns nothing.
 */
export function absorbThenClose(ws: WsConnection, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => ws.terminate(), ms);
    ws.onClose(() => {
      clearTimeout(timer);
      resolve();
    });
    ws.onMessage(() => {});
    ws.resume();
  });
}

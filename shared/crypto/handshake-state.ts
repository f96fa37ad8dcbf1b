/**
 * Noise HandshakeState (Noise spec rev 34, section 5.3), generic over the patterns in
 * patterns.ts, with the psk modifiers of section 9. DH is X25519, the cipher ChaCha20-Poly1305,
 * the hash BLAKE2s or SHA256, on either backend.
 *
 * Every failure while reading a message (short message, bad tag, low-order key) throws one code,
 * HANDSHAKE, and leaves the state failed and wiped: a gateway answers all of them the same way.
 */
import { ErrorCode, codedError, hasCode } from '../errors.ts';
import { cryptoBackend } from './backend.ts';
import { wipe } from './bytes.ts';
import { CipherState, DEFAULT_REKEY_INTERVAL, NOISE_MAX_MESSAGE } from './cipher-state.ts';
import { parseProtocolName, type HandshakePattern, type ProtocolName, type Token } from './patterns.ts';
import type { StaticKey } from './static-key.ts';
import { SymmetricState } from './symmetric-state.ts';
import { KEY_LENGTH, TAG_LENGTH, type CryptoBackend, type DhKeyPair, type DhPublicKey } from './types.ts';

const EMPTY = new Uint8Array(0);

/** What a HandshakeState is built from (section 5.3 Initialize()). */
export interface HandshakeOptions {
  /** Full protocol name, e.g. "Noise_IK_25519_ChaChaPoly_BLAKE2s". */
  protocol: string;
  initiator: boolean;
  prologue?: Uint8Array;
  /** The local static key (its backend is used unless `backend` is given). */
  s?: StaticKey;
  /** The remote static key when the pattern has it as a pre-message (NK, KK, IK). */
  rs?: Uint8Array | DhPublicKey;
  /** Pre-shared keys (32 bytes each), consumed by the psk tokens in order. */
  psks?: readonly Uint8Array[];
  backend?: CryptoBackend;
  /** Lockstep rekey interval of the transport CipherStates (0 disables). */
  rekeyInterval?: number;
  /** A fixed ephemeral private key. Only for reproducing published test vectors. */
  fixedEphemeral?: Uint8Array;
}

/** The transport CipherStates after a handshake, oriented for one side. */
export interface TransportPair {
  /** Encrypts what this side sends. */
  readonly send: CipherState;
  /** Decrypts what this side receives. */
  readonly recv: CipherState;
  /** The handshake hash h (section 11.2 channel binding; the replay cache key). */
  readonly handshakeHash: Uint8Array;
  /** The peer's static public key, when the pattern transmits or pre-shares it. */
  readonly remoteStaticKey: Uint8Array | null;
}

type Status = 'running' | 'complete' | 'failed' | 'split';

interface Requirements {
  s: boolean;
  rs: boolean;
  psks: number;
}

const requirementCache = new WeakMap<HandshakePattern, [Requirements, Requirements]>();

/** Which keys one side of a pattern must be given (memoized: asked on every handshake). */
function requirements(pattern: HandshakePattern, initiator: boolean): Requirements {
  let both = requirementCache.get(pattern);
  if (both === undefined) {
    const side = (init: boolean): Requirements => {
      // Local s is needed to send or pre-share it, and for DH tokens using it (section 7.3).
      const localDh: Token[] = init ? ['se', 'ss'] : ['es', 'ss'];
      return {
        s:
          (init ? pattern.initiatorPreMessage : pattern.responderPreMessage).length > 0 ||
          pattern.messages.some((m, i) => ((i % 2 === 0) === init && m.includes('s')) || m.some((t) => localDh.includes(t))),
        rs: (init ? pattern.responderPreMessage : pattern.initiatorPreMessage).length > 0,
        psks: pattern.messages.flat().filter((t) => t === 'psk').length,
      };
    };
    both = [side(true), side(false)];
    requirementCache.set(pattern, both);
  }
  return initiator ? both[0] : both[1];
}

function handshakeError(message: string, cause?: unknown): Error {
  return codedError(Error, ErrorCode.HANDSHAKE, message, cause);
}

/** A Noise handshake in progress. */
export class HandshakeState {
  readonly protocol: ProtocolName;
  readonly initiator: boolean;
  readonly #backend: CryptoBackend;
  readonly #symmetric: SymmetricState;
  readonly #s: StaticKey | null;
  readonly #psks: Uint8Array[];
  readonly #rekeyInterval: number;
  #fixedEphemeral: Uint8Array | null;
  #e: DhKeyPair | null = null;
  #re: DhPublicKey | null = null;
  #rs: DhPublicKey | null;
  #message = 0;
  #psk = 0;
  #status: Status = 'running';

  constructor(options: HandshakeOptions) {
    this.protocol = parseProtocolName(options.protocol);
    this.initiator = options.initiator;
    this.#s = options.s ?? null;
    this.#backend = options.backend ?? this.#s?.backend ?? cryptoBackend();
    if (this.#s !== null && this.#s.backend !== this.#backend) {
      const { backend } = this.#s;
      throw codedError(
        TypeError,
        ErrorCode.BAD_KEY,
        `The static key belongs to the ${backend.name} (${backend.provider}) backend: expected ${this.#backend.name} (${this.#backend.provider})`,
      );
    }
    this.#rs = options.rs === undefined ? null : this.#importRemote(options.rs);
    this.#psks = (options.psks ?? []).map((psk) => psk.slice());
    this.#rekeyInterval = options.rekeyInterval ?? DEFAULT_REKEY_INTERVAL;
    this.#fixedEphemeral = options.fixedEphemeral?.slice() ?? null;
    this.#checkKeys();
    this.#symmetric = new SymmetricState(this.#backend.aead, this.#backend.hash(this.protocol.hash), this.protocol.name);
    this.#symmetric.mixHash(options.prologue ?? EMPTY);
    // Section 7.1: pre-message keys are hashed initiator first, then responder.
    const { initiatorPreMessage, responderPreMessage } = this.protocol.pattern;
    for (const [tokens, ours] of [[initiatorPreMessage, this.initiator], [responderPreMessage, !this.initiator]] as const) {
      for (const _ of tokens) this.#symmetric.mixHash(ours ? this.#s!.publicKey : this.#rs!.bytes);
    }
  }

  /** True once every message pattern has been written or read. */
  get isComplete(): boolean {
    return this.#status === 'complete';
  }

  /** True when the next call should be writeMessage() (false: readMessage()). */
  get isMyTurn(): boolean {
    return this.#status === 'running' && (this.#message % 2 === 0) === this.initiator;
  }

  /** The remote static public key once known (received or pre-shared). */
  get remoteStaticKey(): Uint8Array | null {
    return this.#rs?.bytes.slice() ?? null;
  }

  /** The current handshake hash h (after message 1: the replay-cache key of that message). */
  get handshakeHash(): Uint8Array {
    if (this.#status === 'failed' || this.#status === 'split') throw handshakeError('The handshake state was wiped: expected a live handshake');
    return this.#symmetric.handshakeHash();
  }

  /** WriteMessage(payload): the next handshake message. */
  writeMessage(payload: Uint8Array = EMPTY): Uint8Array {
    const tokens = this.#turn(true);
    const length = this.#messageLength(tokens, payload.length);
    if (length > NOISE_MAX_MESSAGE) {
      throw codedError(RangeError, ErrorCode.FRAME_TOO_LARGE, `The handshake message would have ${length} bytes: expected at most ${NOISE_MAX_MESSAGE}`);
    }
    const out = new Uint8Array(length);
    let at = 0;
    try {
      for (const token of tokens) {
        if (token === 'e') {
          const e = this.#fixedEphemeral === null ? this.#backend.x25519.generateKeyPair() : this.#backend.x25519.keyPairFromPrivate(this.#fixedEphemeral);
          wipe(this.#fixedEphemeral);
          this.#fixedEphemeral = null;
          this.#e = e;
          out.set(e.publicKey, at);
          at += KEY_LENGTH;
          this.#symmetric.mixHash(e.publicKey);
          if (this.protocol.pattern.psk) this.#symmetric.mixKey(e.publicKey);
        } else if (token === 's') {
          const c = this.#symmetric.encryptAndHash(this.#s!.publicKey);
          out.set(c, at);
          at += c.length;
        } else {
          this.#mixToken(token);
        }
      }
      out.set(this.#symmetric.encryptAndHash(payload), at);
    } catch (err) {
      this.#fail();
      throw hasCode(err, ErrorCode.HANDSHAKE) ? err : handshakeError('Writing the handshake message failed', err);
    }
    this.#finishMessage();
    return out;
  }

  /** ReadMessage(message): the payload of the peer's handshake message. Throws HANDSHAKE. */
  readMessage(message: Uint8Array): Uint8Array {
    const tokens = this.#turn(false);
    try {
      if (message.length > NOISE_MAX_MESSAGE) throw handshakeError(`The handshake message has ${message.length} bytes: expected at most ${NOISE_MAX_MESSAGE}`);
      let at = 0;
      const take = (n: number): Uint8Array => {
        if (at + n > message.length) throw handshakeError(`The handshake message is truncated: expected at least ${at + n} bytes, got ${message.length}`);
        const part = message.subarray(at, at + n);
        at += n;
        return part;
      };
      for (const token of tokens) {
        if (token === 'e') {
          const bytes = take(KEY_LENGTH);
          this.#re = this.#backend.x25519.publicKey(bytes);
          this.#symmetric.mixHash(bytes);
          if (this.protocol.pattern.psk) this.#symmetric.mixKey(bytes);
        } else if (token === 's') {
          const bytes = this.#symmetric.decryptAndHash(take(this.#symmetric.hasKey() ? KEY_LENGTH + TAG_LENGTH : KEY_LENGTH));
          this.#rs = this.#importRemote(bytes);
        } else {
          this.#mixToken(token);
        }
      }
      const rest = message.subarray(at);
      if (this.#symmetric.hasKey() && rest.length < TAG_LENGTH) throw handshakeError('The handshake message is truncated: expected a payload tag');
      const payload = this.#symmetric.decryptAndHash(rest);
      this.#finishMessage();
      return payload;
    } catch (err) {
      this.#fail();
      throw hasCode(err, ErrorCode.HANDSHAKE) ? err : handshakeError('The handshake message was refused', err);
    }
  }

  /**
   * Split() (section 5.2) once complete: the transport pair for this side. Wipes the handshake
   * secrets; the HandshakeState cannot be used afterwards.
   */
  split(): TransportPair {
    if (this.#status !== 'complete') throw handshakeError(`The handshake is ${this.#status}: expected a complete handshake before split`);
    const handshakeHash = this.#symmetric.handshakeHash();
    const [c1, c2] = this.#symmetric.split({ rekeyInterval: this.#rekeyInterval });
    this.#status = 'split';
    const remoteStaticKey = this.remoteStaticKey;
    this.#clear();
    return this.initiator
      ? { send: c1, recv: c2, handshakeHash, remoteStaticKey }
      : { send: c2, recv: c1, handshakeHash, remoteStaticKey };
  }

  /** Abandons the handshake and wipes its secrets. */
  destroy(): void {
    if (this.#status === 'running' || this.#status === 'complete') this.#fail();
  }

  #turn(writing: boolean): readonly Token[] {
    if (this.#status !== 'running') throw handshakeError(`The handshake is ${this.#status}: expected a running handshake`);
    if (this.isMyTurn !== writing) {
      throw handshakeError(`It is the ${writing ? 'peer' : 'local side'}'s turn: expected ${writing ? 'readMessage' : 'writeMessage'}`);
    }
    return this.protocol.pattern.messages[this.#message]!;
  }

  #messageLength(tokens: readonly Token[], payloadLength: number): number {
    let keyed = this.#symmetric.hasKey();
    let length = 0;
    for (const token of tokens) {
      if (token === 'e') {
        length += KEY_LENGTH;
        if (this.protocol.pattern.psk) keyed = true;
      } else if (token === 's') {
        length += KEY_LENGTH + (keyed ? TAG_LENGTH : 0);
      } else {
        keyed = true;
      }
    }
    return length + payloadLength + (keyed ? TAG_LENGTH : 0);
  }

  #mixToken(token: Exclude<Token, 'e' | 's'>): void {
    if (token === 'psk') {
      const psk = this.#psks[this.#psk++];
      if (psk === undefined) throw handshakeError('The pattern needs another pre-shared key: expected one psk per psk token');
      this.#symmetric.mixKeyAndHash(psk);
      return;
    }
    let secret: Uint8Array;
    if (token === 'ss') {
      secret = this.#s!.sharedStatic(this.#need(this.#rs, 'remote static'));
    } else {
      // Section 7.3: "es" is DH(e, rs) for the initiator and DH(s, re) for the responder; "se" the mirror.
      const localEphemeral = token === 'ee' || (token === 'es') === this.initiator;
      const remoteEphemeral = token === 'ee' || (token === 'se') === this.initiator;
      const local = localEphemeral ? this.#need(this.#e, 'local ephemeral') : this.#s!.pair;
      const remote = remoteEphemeral ? this.#need(this.#re, 'remote ephemeral') : this.#need(this.#rs, 'remote static');
      secret = this.#backend.x25519.dh(local, remote);
    }
    this.#symmetric.mixKey(secret);
    wipe(secret);
  }

  #need<T>(value: T | null, what: string): T {
    if (value === null) throw handshakeError(`The ${what} key is missing: expected the pattern to have provided it`);
    return value;
  }

  #importRemote(key: Uint8Array | DhPublicKey): DhPublicKey {
    if (!(key instanceof Uint8Array)) {
      if (key.backend !== this.#backend.name || key.provider !== this.#backend.provider) {
        throw codedError(
          TypeError,
          ErrorCode.BAD_KEY,
          `The remote static key belongs to the ${key.backend} (${key.provider}) backend: expected ${this.#backend.name} (${this.#backend.provider})`,
        );
      }
      return key;
    }
    return this.#s !== null ? this.#s.remote(key) : this.#backend.x25519.publicKey(key);
  }

  #checkKeys(): void {
    const { pattern } = this.protocol;
    const needs = requirements(pattern, this.initiator);
    const role = this.initiator ? 'initiator' : 'responder';
    if (needs.s && this.#s === null) {
      throw codedError(TypeError, ErrorCode.BAD_CONFIG, `The ${pattern.name} ${role} needs a local static key (s)`);
    }
    if (needs.rs && this.#rs === null) {
      throw codedError(TypeError, ErrorCode.BAD_CONFIG, `The ${pattern.name} ${role} needs the remote static key (rs)`);
    }
    if (this.#psks.length !== needs.psks) {
      throw codedError(TypeError, ErrorCode.BAD_CONFIG, `The ${pattern.name} pattern takes ${needs.psks} pre-shared keys, got ${this.#psks.length}`);
    }
    for (const psk of this.#psks) {
      if (psk.length !== KEY_LENGTH) throw codedError(RangeError, ErrorCode.BAD_KEY, `A pre-shared key has ${psk.length} bytes: expected ${KEY_LENGTH}`);
    }
  }

  #finishMessage(): void {
    this.#message++;
    if (this.#message === this.protocol.pattern.messages.length) {
      this.#status = 'complete';
      // The ephemeral is used by no later token; drop it now rather than at split().
      this.#e?.destroy();
      this.#e = null;
    }
  }

  #fail(): void {
    this.#status = 'failed';
    this.#symmetric.destroy();
    this.#clear();
  }

  #clear(): void {
    this.#e?.destroy();
    this.#e = null;
    this.#re = null;
    wipe(this.#fixedEphemeral, ...this.#psks);
    this.#fixedEphemeral = null;
  }
}

/**
 * A long-lived local X25519 key (a user's key, the handler cluster key, an exit key) held the
 * way the backend computes fastest: imported once (native: a KeyObject), with a bounded cache
 * of remote static keys and of the static-static shared secret per peer. WireGuard keeps the
 * same precomputed static-static value per peer; it saves one X25519 on each side of every IK
 * or KK handshake.
 */
import { ErrorCode, codedError } from '../errors.ts';
import { cryptoBackend } from './backend.ts';
import { wipe } from './bytes.ts';
import type { CryptoBackend, DhKeyPair, DhPublicKey } from './types.ts';

/** Default number of remote peers a StaticKey remembers. */
export const DEFAULT_PEER_CACHE = 4096;

/** Options of StaticKey.fromPrivate(). */
export interface StaticKeyOptions {
  backend?: CryptoBackend;
  /** Remote peers to remember (least recently used evicted first); 0 disables the cache. */
  peerCacheSize?: number;
}

interface Peer {
  key: DhPublicKey;
  ss: Uint8Array | null;
}

function cacheKey(bytes: Uint8Array): string {
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}

/** A local static key pair for Noise handshakes. */
export class StaticKey {
  /** The backend every handshake with this key uses. */
  readonly backend: CryptoBackend;
  /** The backend's handle of the key pair. */
  readonly pair: DhKeyPair;
  /** The 32-byte public key. */
  readonly publicKey: Uint8Array;
  readonly #peers = new Map<string, Peer>();
  readonly #capacity: number;

  private constructor(backend: CryptoBackend, pair: DhKeyPair, capacity: number) {
    this.backend = backend;
    this.pair = pair;
    this.publicKey = pair.publicKey;
    this.#capacity = capacity;
  }

  /** Imports a 32-byte private key (the bytes are copied; wipe yours when done). */
  static fromPrivate(privateKey: Uint8Array, options: StaticKeyOptions = {}): StaticKey {
    const backend = options.backend ?? cryptoBackend();
    const capacity = options.peerCacheSize ?? DEFAULT_PEER_CACHE;
    if (!Number.isSafeInteger(capacity) || capacity < 0) {
      throw codedError(RangeError, ErrorCode.BAD_CONFIG, `The peerCacheSize is ${capacity}: expected a non-negative integer`);
    }
    return new StaticKey(backend, backend.x25519.keyPairFromPrivate(privateKey), capacity);
  }

  /** The backend handle for a remote static public key (cached). */
  remote(bytes: Uint8Array): DhPublicKey {
    return this.#peer(bytes).key;
  }

  /** DH(s, rs) for a remote static key: the "ss" token, computed once per peer. */
  sharedStatic(remote: Uint8Array | DhPublicKey): Uint8Array {
    const bytes = remote instanceof Uint8Array ? remote : remote.bytes;
    const peer = this.#peer(bytes, remote instanceof Uint8Array ? undefined : remote);
    if (peer.ss === null) {
      const ss = this.backend.x25519.dh(this.pair, peer.key);
      if (this.#capacity === 0) return ss;
      peer.ss = ss;
    }
    return peer.ss.slice();
  }

  /** Number of remembered peers. */
  get cachedPeers(): number {
    return this.#peers.size;
  }

  /** Wipes the cached shared secrets and drops the private key. */
  destroy(): void {
    for (const peer of this.#peers.values()) wipe(peer.ss);
    this.#peers.clear();
    this.pair.destroy();
  }

  #peer(bytes: Uint8Array, handle?: DhPublicKey): Peer {
    if (this.#capacity === 0) return { key: handle ?? this.backend.x25519.publicKey(bytes), ss: null };
    const id = cacheKey(bytes);
    const found = this.#peers.get(id);
    if (found !== undefined) {
      // Map keeps insertion order: re-inserting marks the entry most recently used.
      this.#peers.delete(id);
      this.#peers.set(id, found);
      return found;
    }
    const peer: Peer = { key: handle ?? this.backend.x25519.publicKey(bytes), ss: null };
    if (this.#peers.size >= this.#capacity) {
      const oldest = this.#peers.keys().next();
      if (!oldest.done) {
        wipe(this.#peers.get(oldest.value)?.ss);
        this.#peers.delete(oldest.value);
      }
    }
    this.#peers.set(id, peer);
    return peer;
  }
}

/** Test helpers: a connected opener/acceptor session pair over the in-memory transport. */
import { createMemoryTransportPair, type MemoryTransport, type MemoryTransportOptions } from '../../../shared/mux/memory-transport.ts';
import { MuxSession } from '../../../shared/mux/session.ts';
import type { MuxSessionOptions, OpenRequest } from '../../../shared/mux/options.ts';
import type { MuxStream } from '../../../shared/mux/stream.ts';
import { AddressType, Network } from '../../../shared/protocol/constants.ts';

export interface Pair {
  opener: MuxSession;
  acceptor: MuxSession;
  openerTransport: MemoryTransport;
  acceptorTransport: MemoryTransport;
  /** Streams the acceptor accepted, in order. */
  accepted: MuxStream[];
  /** Resolves with the next accepted stream. */
  nextAccepted(): Promise<MuxStream>;
  close(): Promise<void>;
}

type Side = Omit<MuxSessionOptions, 'role'>;

/**
 * Receive-side options that announce `limits` and keep them: auto-tuning off, for tests that
 * pin exact buffer bounds (window-tuning.test.ts covers growth).
 */
export function fixedWindows(limits: { streamWindow: number; sessionWindow: number }): Side {
  return { local: limits, maxStreamWindow: limits.streamWindow, maxSessionWindow: limits.sessionWindow };
}

/** Builds a pair whose acceptor accepts every OPEN unless `acceptor.onOpen` is given. */
export function makePair(
  opener: Side = {},
  acceptor: Side = {},
  transport: MemoryTransportOptions = {},
): Pair {
  const [ta, tb] = createMemoryTransportPair(transport);
  const accepted: MuxStream[] = [];
  const waiters: Array<(s: MuxStream) => void> = [];
  let taken = 0;
  const defaults = { keepaliveIntervalMs: 0 };
  const a = new MuxSession(ta, { ...defaults, ...opener, role: 'opener' });
  const b = new MuxSession(tb, {
    ...defaults,
    onOpen: (stream) => {
      stream.accept();
      accepted.push(stream);
      const w = waiters.shift();
      if (w !== undefined) {
        taken++;
        w(stream);
      }
    },
    ...acceptor,
    role: 'acceptor',
  });
  return {
    opener: a,
    acceptor: b,
    openerTransport: ta,
    acceptorTransport: tb,
    accepted,
    nextAccepted() {
      const ready = accepted[taken];
      if (ready !== undefined) {
        taken++;
        return Promise.resolve(ready);
      }
      return new Promise((resolve) => waiters.push(resolve));
    },
    async close() {
      a.close();
      b.close();
      await Promise.all([a.closed, b.closed]);
    },
  };
}

/** A tcp OPEN request for example.com:443. */
export const TCP_REQUEST: OpenRequest = {
  network: Network.TCP,
  address: { addressType: AddressType.DOMAIN, host: 'example.com', port: 443 },
};

/** The parts joined into one array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.byteLength;
  }
  return out;
}

/** Reads a stream to its FIN and returns the concatenated bytes. */
export async function readAll(stream: MuxStream, maxBytes = 1 << 30): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const chunk = await stream.read();
    if (chunk === null) break;
    total += chunk.byteLength;
    if (total > maxBytes) throw new Error(`readAll: more than ${maxBytes} bytes`);
    parts.push(chunk.slice());
  }
  return concatBytes(parts);
}

/** Deterministic pseudo-random bytes (xorshift32), so a failing test is reproducible. */
export function pseudoRandomBytes(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** Waits for `n` macrotasks so in-memory deliveries settle. */
export async function settle(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setTimeout(r, 0));
}

/**
 * `npm run bench -- crypto [--json]`: AEAD throughput at 1,400 B and 16 KiB through the
 * transport CipherState (encrypt: a new array; encryptInto: a reused output buffer; in-place:
 * the frame buffer itself; decrypt), and complete Noise handshakes per second
 * (initiator and responder on this one thread), for each backend, next to raw node:crypto
 * createCipheriv measured in the same run as the baseline.
 *
 * Rates are per CPU-second of this process (process.cpuUsage), i.e. per core: on a shared
 * machine the wall clock also counts time the scheduler gave to other processes. Runs are
 * interleaved and the best of several rounds is kept, so a noisy neighbour skews baseline and
 * wrapper alike. About 25 s in total.
 */
import { availableCryptoBackends } from '../shared/crypto/backend.ts';
import { CipherState } from '../shared/crypto/cipher-state.ts';
import { HandshakeState } from '../shared/crypto/handshake-state.ts';
import { generatePrivateKey } from '../shared/crypto/keys.ts';
import { StaticKey } from '../shared/crypto/static-key.ts';
import type { CryptoBackend, NoiseHashName } from '../shared/crypto/types.ts';
import { rawNativeSeal } from '../shared/runtime/native-crypto.ts';
import type { Reporter } from './report.ts';

const SIZES = [1400, 16384];
const ROUNDS = 3;
const AEAD_SLICE_MS = 250;
const HANDSHAKE_SLICE_MS = 400;

interface Rate {
  /** Operations per CPU-second. */
  cpu: number;
  /** Operations per wall-clock second. */
  wall: number;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Calls fn (which does `batch` operations) for about `ms` of wall time; returns both rates. */
function rate(ms: number, batch: number, fn: () => void): Rate {
  fn(); // warm-up
  let ops = 0;
  const wall0 = performance.now();
  const cpu0 = cpuMs();
  let wall = 0;
  do {
    fn();
    ops += batch;
    wall = performance.now() - wall0;
  } while (wall < ms);
  const cpu = Math.max(cpuMs() - cpu0, 0.001);
  return { cpu: (ops * 1000) / cpu, wall: (ops * 1000) / wall };
}

function best(a: Rate | undefined, b: Rate): Rate {
  return a === undefined ? b : { cpu: Math.max(a.cpu, b.cpu), wall: Math.max(a.wall, b.wall) };
}

function aeadRates(backends: CryptoBackend[], size: number): Map<string, Rate> {
  const key = crypto.getRandomValues(new Uint8Array(32));
  const nonce = new Uint8Array(12);
  const plaintext = crypto.getRandomValues(new Uint8Array(size));
  const out = new Uint8Array(size + 16);
  const batch = Math.max(1, Math.floor(262144 / size));
  const results = new Map<string, Rate>();
  const measure = (name: string, fn: () => void) => results.set(name, best(results.get(name), rate(AEAD_SLICE_MS, batch, fn)));
  for (let round = 0; round < ROUNDS; round++) {
    measure('raw', () => {
      for (let i = 0; i < batch; i++) rawNativeSeal(key, nonce, plaintext);
    });
    for (const backend of backends) {
      // The pure backend is far slower; one round is enough to place it.
      if (backend.name === 'noble' && round > 0) continue;
      const cs = new CipherState(backend.aead, key.slice(), { rekeyInterval: 2 ** 20 });
      measure(`${backend.name} encrypt`, () => {
        for (let i = 0; i < batch; i++) cs.encrypt(plaintext);
      });
      measure(`${backend.name} encryptInto`, () => {
        for (let i = 0; i < batch; i++) cs.encryptInto(out, 0, plaintext);
      });
      // The data-plane pattern: frames written into a buffer with 16 bytes of tail room, then
      // encrypted in place (no allocation, no second buffer).
      const room = new Uint8Array(size + 16);
      room.set(plaintext);
      measure(`${backend.name} in-place`, () => {
        for (let i = 0; i < batch; i++) cs.encryptInPlace(room, size);
      });
      // Decrypt alone: one batch of messages sealed up front, replayed by resetting the nonce.
      const tx = new CipherState(backend.aead, key.slice(), { rekeyInterval: 0 });
      const sealed = Array.from({ length: batch }, () => tx.encrypt(plaintext));
      const rx = new CipherState(backend.aead, key.slice(), { rekeyInterval: 0 });
      measure(`${backend.name} decrypt`, () => {
        rx.setNonce(0n);
        for (let i = 0; i < batch; i++) rx.decrypt(sealed[i]!);
      });
    }
  }
  return results;
}

function handshakeRate(backend: CryptoBackend, pattern: 'IK' | 'KK', hash: NoiseHashName, ms: number): Rate {
  const protocol = `Noise_${pattern}_25519_ChaChaPoly_${hash}`;
  const client = StaticKey.fromPrivate(generatePrivateKey(), { backend });
  const server = StaticKey.fromPrivate(generatePrivateKey(), { backend });
  const serverKey = client.remote(server.publicKey);
  const clientKey = server.remote(client.publicKey);
  const prologue = new TextEncoder().encode('apfsds bench');
  const payload = new Uint8Array(48);
  return rate(ms, 1, () => {
    const init = new HandshakeState({ protocol, initiator: true, s: client, rs: serverKey, prologue });
    const resp = new HandshakeState({ protocol, initiator: false, s: server, prologue, ...(pattern === 'KK' ? { rs: clientKey } : {}) });
    resp.readMessage(init.writeMessage(payload));
    init.readMessage(resp.writeMessage(payload));
    init.split();
    resp.split();
  });
}

/** The crypto benchmark scenario. */
export async function run(reporter: Reporter, _argv: string[]): Promise<void> {
  const backends = availableCryptoBackends();
  for (const size of SIZES) {
    const results = aeadRates(backends, size);
    const mbps = (r: Rate) => (r.cpu * size) / 1e6;
    const raw = results.get('raw')!;
    reporter.report({ scenario: 'crypto.aead.raw-node-crypto', metric: `seal ${size} B`, value: mbps(raw), unit: 'MB/s' });
    for (const [name, r] of results) {
      if (name === 'raw') continue;
      const [backend, op] = name.split(' ') as [string, string];
      reporter.report({ scenario: `crypto.aead.${backend}`, metric: `${op} ${size} B`, value: mbps(r), unit: 'MB/s', baseline: mbps(raw) });
    }
  }
  for (const backend of backends) {
    const cases: ['IK' | 'KK', NoiseHashName][] =
      backend.name === 'native'
        ? [['IK', 'BLAKE2s'], ['IK', 'SHA256'], ['KK', 'BLAKE2s'], ['KK', 'SHA256']]
        : [['IK', 'BLAKE2s'], ['IK', 'SHA256']];
    const rates = new Map<string, Rate>();
    for (let round = 0; round < (backend.name === 'native' ? ROUNDS : 1); round++) {
      for (const [pattern, hash] of cases) {
        const name = `${pattern} ${hash}`;
        rates.set(name, best(rates.get(name), handshakeRate(backend, pattern, hash, HANDSHAKE_SLICE_MS)));
      }
    }
    for (const [name, r] of rates) {
      reporter.report({ scenario: `crypto.noise.${backend.name}`, metric: `${name} handshakes`, value: r.cpu, unit: 'hs/s' });
      reporter.report({ scenario: `crypto.noise.${backend.name}`, metric: `${name} (wall clock)`, value: r.wall, unit: 'hs/s' });
    }
  }
}

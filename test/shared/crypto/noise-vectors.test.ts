/**
 * Reproduces every cacophony vector (public domain) for the patterns the project ships:
 * NN, NK, KK, IK, XX and IKpsk2, with BLAKE2s and SHA256, on both backends. The vectors fix
 * the ephemeral keys, so every handshake message, the handshake hash and the transport
 * messages after the handshake must match byte for byte.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { HandshakeState, type TransportPair } from '../../../shared/crypto/handshake-state.ts';
import { StaticKey } from '../../../shared/crypto/static-key.ts';
import type { CryptoBackend } from '../../../shared/crypto/types.ts';
import { backends, hex, toHex } from './helpers.ts';

interface Vector {
  protocol_name: string;
  init_prologue: string;
  init_psks?: string[];
  init_static?: string;
  init_ephemeral: string;
  init_remote_static?: string;
  resp_prologue: string;
  resp_psks?: string[];
  resp_static?: string;
  resp_ephemeral: string;
  resp_remote_static?: string;
  handshake_hash: string;
  messages: { payload: string; ciphertext: string }[];
}

// The repository sits at /work/main with shared/ beside it (CI clones it the same way).
const file = new URL('../../../../shared/vectors/noise-cacophony-25519-chachapoly.json', import.meta.url);
const vectors = (JSON.parse(readFileSync(file, 'utf8')) as { vectors: Vector[] }).vectors;
const PATTERNS = ['NN', 'NK', 'KK', 'IK', 'XX', 'IKpsk2'];

function side(v: Vector, backend: CryptoBackend, initiator: boolean): HandshakeState {
  const p = initiator ? 'init' : 'resp';
  const s = v[`${p}_static`];
  const rs = v[`${p}_remote_static`];
  const psks = v[`${p}_psks`];
  return new HandshakeState({
    protocol: v.protocol_name,
    initiator,
    backend,
    prologue: hex(v[`${p}_prologue`]),
    fixedEphemeral: hex(v[`${p}_ephemeral`]),
    ...(s === undefined ? {} : { s: StaticKey.fromPrivate(hex(s), { backend }) }),
    ...(rs === undefined ? {} : { rs: hex(rs) }),
    ...(psks === undefined ? {} : { psks: psks.map(hex) }),
  });
}

describe('cacophony vectors', () => {
  it('cover every shipped pattern with both hashes', () => {
    const names = new Set(vectors.map((v) => v.protocol_name));
    for (const pattern of PATTERNS) {
      for (const hash of ['BLAKE2s', 'SHA256']) assert.ok(names.has(`Noise_${pattern}_25519_ChaChaPoly_${hash}`), `${pattern} ${hash}`);
    }
  });

  for (const backend of backends) {
    for (const v of vectors) {
      const pattern = v.protocol_name.split('_')[1]!;
      if (!PATTERNS.includes(pattern)) continue;
      it(`${backend.name} (${backend.provider}): ${v.protocol_name} reproduces every message and the handshake hash`, () => {
        const init = side(v, backend, true);
        const resp = side(v, backend, false);
        let initPair: TransportPair | null = null;
        let respPair: TransportPair | null = null;
        v.messages.forEach((m, i) => {
          const initiatorSends = i % 2 === 0;
          const payload = hex(m.payload);
          let wire: Uint8Array;
          let received: Uint8Array;
          if (initPair === null || respPair === null) {
            const [writer, reader] = initiatorSends ? [init, resp] : [resp, init];
            wire = writer.writeMessage(payload);
            assert.equal(toHex(wire), m.ciphertext, `handshake message ${i}`);
            received = reader.readMessage(wire);
            if (init.isComplete && resp.isComplete) {
              assert.equal(toHex(init.handshakeHash), v.handshake_hash);
              assert.equal(toHex(resp.handshakeHash), v.handshake_hash);
              initPair = init.split();
              respPair = resp.split();
              assert.equal(toHex(initPair.handshakeHash), v.handshake_hash);
            }
          } else {
            const [from, to] = initiatorSends ? [initPair, respPair] : [respPair, initPair];
            wire = from.send.encrypt(payload);
            assert.equal(toHex(wire), m.ciphertext, `transport message ${i}`);
            received = to.recv.decrypt(wire);
          }
          assert.deepEqual(received, payload, `payload ${i}`);
        });
        assert.ok(initPair !== null && respPair !== null, 'the handshake completed');
      });
    }
  }
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../../../shared/errors.ts';
import { HandshakeState } from '../../../shared/crypto/handshake-state.ts';
import { handshakePattern, parseProtocolName } from '../../../shared/crypto/patterns.ts';
import { StaticKey } from '../../../shared/crypto/static-key.ts';
import type { CryptoBackend, DhKeyPair } from '../../../shared/crypto/types.ts';
import { backends, hex, seededBytes } from './helpers.ts';

const rand = seededBytes(11);

for (const backend of backends) {
  const key = () => StaticKey.fromPrivate(rand(32), { backend });
  const ik = (client: StaticKey, server: StaticKey, serverPublic = server.publicKey) => ({
    init: new HandshakeState({ protocol: 'Noise_IK_25519_ChaChaPoly_SHA256', initiator: true, s: client, rs: serverPublic }),
    resp: new HandshakeState({ protocol: 'Noise_IK_25519_ChaChaPoly_SHA256', initiator: false, s: server }),
  });

  describe(`${backend.name} (${backend.provider}) HandshakeState`, () => {
    it('completes IK with random ephemerals and gives matching transport pairs', () => {
      const client = key();
      const server = key();
      const { init, resp } = ik(client, server);
      assert.equal(init.isMyTurn, true);
      assert.equal(resp.isMyTurn, false);
      assert.deepEqual(resp.readMessage(init.writeMessage(hex('c1'))), hex('c1'));
      assert.deepEqual(resp.remoteStaticKey, client.publicKey);
      assert.deepEqual(init.readMessage(resp.writeMessage(hex('5e'))), hex('5e'));
      const a = init.split();
      const b = resp.split();
      assert.deepEqual(a.handshakeHash, b.handshakeHash);
      assert.deepEqual(a.remoteStaticKey, server.publicKey);
      assert.deepEqual(b.recv.decrypt(a.send.encrypt(hex('0102'))), hex('0102'));
      assert.deepEqual(a.recv.decrypt(b.send.encrypt(hex('0304'))), hex('0304'));
    });

    it('refuses IK message 1 made for another server key, with HANDSHAKE', () => {
      const client = key();
      const { init, resp } = ik(client, key(), key().publicKey);
      assert.throws(() => resp.readMessage(init.writeMessage()), { code: ErrorCode.HANDSHAKE });
      assert.throws(() => resp.writeMessage(), { code: ErrorCode.HANDSHAKE });
    });

    it('refuses a message with any byte flipped, or truncated, with HANDSHAKE', () => {
      const client = key();
      const server = key();
      const wire = ik(client, server).init.writeMessage(hex('00112233'));
      for (const at of [0, 31, 32, 60, wire.length - 1]) {
        const bad = wire.slice();
        bad[at]! ^= 4;
        assert.throws(() => ik(client, server).resp.readMessage(bad), { code: ErrorCode.HANDSHAKE }, `byte ${at}`);
      }
      for (const length of [0, 31, 40, wire.length - 1]) {
        assert.throws(() => ik(client, server).resp.readMessage(wire.subarray(0, length)), { code: ErrorCode.HANDSHAKE }, `length ${length}`);
      }
    });

    it('refuses a low-order ephemeral key with HANDSHAKE', () => {
      const { init, resp } = ik(key(), key());
      const wire = init.writeMessage();
      wire.fill(0, 0, 32);
      assert.throws(() => resp.readMessage(wire), { code: ErrorCode.HANDSHAKE });
    });

    it('enforces turns and refuses to split before completion', () => {
      const { init, resp } = ik(key(), key());
      assert.throws(() => init.readMessage(new Uint8Array(96)), { code: ErrorCode.HANDSHAKE });
      assert.throws(() => resp.writeMessage(), { code: ErrorCode.HANDSHAKE });
      assert.throws(() => init.split(), { code: ErrorCode.HANDSHAKE });
    });

    it('can split only once and then refuses further use', () => {
      const { init, resp } = ik(key(), key());
      resp.readMessage(init.writeMessage());
      init.readMessage(resp.writeMessage());
      init.split();
      assert.throws(() => init.split(), { code: ErrorCode.HANDSHAKE });
      assert.throws(() => init.writeMessage(), { code: ErrorCode.HANDSHAKE });
      assert.throws(() => init.handshakeHash, { code: ErrorCode.HANDSHAKE });
    });

    it('destroys its ephemeral key pairs as soon as the handshake completes', () => {
      const made: DhKeyPair[] = [];
      const destroyed = new Set<DhKeyPair>();
      const track = (pair: DhKeyPair): DhKeyPair => {
        made.push(pair);
        const destroy = pair.destroy.bind(pair);
        pair.destroy = () => {
          destroyed.add(pair);
          destroy();
        };
        return pair;
      };
      const spy: CryptoBackend = {
        ...backend,
        x25519: {
          ...backend.x25519,
          generateKeyPair: () => track(backend.x25519.generateKeyPair()),
          keyPairFromPrivate: (k) => track(backend.x25519.keyPairFromPrivate(k)),
        },
      };
      const server = StaticKey.fromPrivate(rand(32), { backend: spy });
      const e = rand(32);
      const init = new HandshakeState({ protocol: 'Noise_NK_25519_ChaChaPoly_BLAKE2s', initiator: true, backend: spy, rs: server.publicKey, fixedEphemeral: e });
      const resp = new HandshakeState({ protocol: 'Noise_NK_25519_ChaChaPoly_BLAKE2s', initiator: false, s: server });
      resp.readMessage(init.writeMessage());
      init.readMessage(resp.writeMessage());
      assert.equal(made.length, 3, 'server static + two ephemerals');
      assert.ok(destroyed.has(made[1]!) && destroyed.has(made[2]!), 'both ephemerals destroyed before split');
      assert.ok(!destroyed.has(made[0]!), 'the static key is the caller\'s to destroy');
      assert.notDeepEqual(e, new Uint8Array(32), 'the caller keeps its own copy of a fixed ephemeral');
    });

    it('refuses a payload that would make a message longer than 65535 bytes', () => {
      const { init } = ik(key(), key());
      assert.throws(() => init.writeMessage(new Uint8Array(65535 - 96 + 1)), { code: ErrorCode.FRAME_TOO_LARGE });
      assert.equal(init.writeMessage(new Uint8Array(65535 - 96)).length, 65535);
    });

    it('requires the keys the pattern needs', () => {
      const server = key();
      assert.throws(() => new HandshakeState({ protocol: 'Noise_IK_25519_ChaChaPoly_SHA256', initiator: true, s: key() }), { code: ErrorCode.BAD_CONFIG });
      assert.throws(() => new HandshakeState({ protocol: 'Noise_IK_25519_ChaChaPoly_SHA256', initiator: true, backend, rs: server.publicKey }), { code: ErrorCode.BAD_CONFIG });
      assert.throws(() => new HandshakeState({ protocol: 'Noise_IK_25519_ChaChaPoly_SHA256', initiator: false, backend }), { code: ErrorCode.BAD_CONFIG });
      assert.throws(() => new HandshakeState({ protocol: 'Noise_IKpsk2_25519_ChaChaPoly_SHA256', initiator: false, s: server }), { code: ErrorCode.BAD_CONFIG });
      assert.throws(
        () => new HandshakeState({ protocol: 'Noise_IKpsk2_25519_ChaChaPoly_SHA256', initiator: false, s: server, psks: [new Uint8Array(31)] }),
        { code: ErrorCode.BAD_KEY },
      );
    });

    it('refuses a static key or a remote key handle from any other backend or form', () => {
      for (const other of backends.filter((b) => b !== backend)) {
        const foreign = StaticKey.fromPrivate(rand(32), { backend: other });
        assert.throws(() => new HandshakeState({ protocol: 'Noise_XX_25519_ChaChaPoly_SHA256', initiator: true, s: foreign, backend }), { code: ErrorCode.BAD_KEY });
        const handle = other.x25519.publicKey(foreign.publicKey);
        const own = StaticKey.fromPrivate(rand(32), { backend });
        assert.throws(() => new HandshakeState({ protocol: 'Noise_IK_25519_ChaChaPoly_SHA256', initiator: true, s: own, rs: handle }), { code: ErrorCode.BAD_KEY }, other.provider);
      }
    });
  });
}

describe('protocol names', () => {
  it('parse the DH, cipher, hash and pattern with psk modifiers', () => {
    const p = parseProtocolName('Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s');
    assert.equal(p.hash, 'BLAKE2s');
    assert.deepEqual(p.pattern.messages, [['e', 'es', 's', 'ss'], ['e', 'ee', 'se', 'psk']]);
    assert.deepEqual(handshakePattern('NNpsk0+psk2').messages, [['psk', 'e'], ['e', 'ee', 'psk']]);
  });

  it('refuse anything but 25519, ChaChaPoly and BLAKE2s or SHA256', () => {
    for (const name of [
      'Noise_IK_448_ChaChaPoly_SHA256',
      'Noise_IK_25519_AESGCM_SHA256',
      'Noise_IK_25519_ChaChaPoly_SHA512',
      'Noise_QQ_25519_ChaChaPoly_SHA256',
      'Noise_NNpsk3_25519_ChaChaPoly_SHA256',
      'Noise_IK_25519_ChaChaPoly',
    ]) {
      assert.throws(() => parseProtocolName(name), { code: ErrorCode.BAD_CONFIG }, name);
    }
  });
});

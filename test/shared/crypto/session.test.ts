import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ErrorCode } from '../../../shared/errors.ts';
import {
  LINK_PROTOCOL,
  SESSION_PROTOCOL,
  createLinkInitiator,
  createLinkResponder,
  createSessionInitiator,
  createSessionResponder,
} from '../../../shared/crypto/session.ts';
import { StaticKey } from '../../../shared/crypto/static-key.ts';
import { backends, hex, seededBytes } from './helpers.ts';

const rand = seededBytes(23);

for (const backend of backends) {
  const key = () => StaticKey.fromPrivate(rand(32), { backend });

  describe(`${backend.name} (${backend.provider}) product handshakes`, () => {
    it('runs a client session (IK): the handler learns the user key and both get transports', () => {
      const user = key();
      const cluster = key();
      const client = createSessionInitiator({ staticKey: user, remoteStatic: cluster.publicKey });
      const handler = createSessionResponder({ staticKey: cluster });
      assert.equal(client.protocol.name, SESSION_PROTOCOL);
      const hello = handler.readMessage(client.writeMessage(hex('7b7d')));
      assert.deepEqual(hello, hex('7b7d'));
      assert.deepEqual(handler.remoteStaticKey, user.publicKey);
      const replayId = handler.handshakeHash;
      assert.equal(replayId.length, 32);
      client.readMessage(handler.writeMessage(hex('6f6b')));
      const c = client.split();
      const h = handler.split();
      assert.deepEqual(h.recv.decrypt(c.send.encrypt(hex('aa'))), hex('aa'));
      assert.deepEqual(c.recv.decrypt(h.send.encrypt(hex('bb'))), hex('bb'));
    });

    it('refuses a session whose prologue differs', () => {
      const cluster = key();
      const client = createSessionInitiator({ staticKey: key(), remoteStatic: cluster.publicKey, prologue: hex('01') });
      const handler = createSessionResponder({ staticKey: cluster });
      assert.throws(() => handler.readMessage(client.writeMessage()), { code: ErrorCode.HANDSHAKE });
    });

    it('runs a handler<->exit link (KK) and refuses an exit key the handler does not expect', () => {
      const handlerKey = key();
      const exitKey = key();
      const handler = createLinkInitiator({ staticKey: handlerKey, remoteStatic: exitKey.publicKey });
      const exit = createLinkResponder({ staticKey: exitKey, remoteStatic: handlerKey.publicKey });
      assert.equal(handler.protocol.name, LINK_PROTOCOL);
      exit.readMessage(handler.writeMessage());
      handler.readMessage(exit.writeMessage());
      const h = handler.split();
      const e = exit.split();
      assert.deepEqual(e.recv.decrypt(h.send.encrypt(hex('01'))), hex('01'));

      const impostor = createLinkInitiator({ staticKey: key(), remoteStatic: exitKey.publicKey });
      const exit2 = createLinkResponder({ staticKey: exitKey, remoteStatic: handlerKey.publicKey });
      assert.throws(() => exit2.readMessage(impostor.writeMessage()), { code: ErrorCode.HANDSHAKE });
    });

    it('applies the configured rekey interval to the transport pair', () => {
      const user = key();
      const cluster = key();
      const client = createSessionInitiator({ staticKey: user, remoteStatic: cluster.publicKey, rekeyInterval: 2 });
      const handler = createSessionResponder({ staticKey: cluster, rekeyInterval: 2 });
      handler.readMessage(client.writeMessage());
      client.readMessage(handler.writeMessage());
      const c = client.split();
      const h = handler.split();
      for (let i = 0; i < 7; i++) assert.deepEqual(h.recv.decrypt(c.send.encrypt(hex('09'))), hex('09'));
    });
  });
}

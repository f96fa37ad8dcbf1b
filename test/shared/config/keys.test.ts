import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../../shared/errors.ts';
import {
  Key,
  Secret,
  decodeBase64Url,
  decodeKeyText,
  derivePublicKey,
  encodeBase64Url,
  joinPath,
  loadConfig,
  parseConfig,
  type ConfigError,
} from '../../../shared/config/index.ts';
import { memoryIO } from './io.ts';

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const fromHex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
const utf8 = (s: string) => new TextEncoder().encode(s);

describe('base64url', () => {
  it('matches the RFC 4648 section 10 vectors without padding', () => {
    const vectors: [string, string][] = [['', ''], ['f', 'Zg'], ['fo', 'Zm8'], ['foo', 'Zm9v'], ['foob', 'Zm9vYg'], ['fooba', 'Zm9vYmE'], ['foobar', 'Zm9vYmFy']];
    for (const [plain, enc] of vectors) {
      assert.equal(encodeBase64Url(utf8(plain)), enc);
      assert.deepEqual(decodeBase64Url(enc), utf8(plain));
    }
  });

  it('uses - and _ for bytes 0xfb and 0xff', () => {
    assert.equal(encodeBase64Url(fromHex('fbff')), '-_8');
    assert.deepEqual(decodeBase64Url('-_8'), fromHex('fbff'));
  });

  it('accepts correct padding and refuses foreign characters, bad lengths and non-zero trailing bits', () => {
    assert.deepEqual(decodeBase64Url('Zm8='), utf8('fo'));
    assert.equal(decodeBase64Url('Zm+v'), undefined);
    assert.equal(decodeBase64Url('Zm9vY'), undefined);
    assert.equal(decodeBase64Url('Zh'), undefined);
  });
});

describe('keys', () => {
  it('decodes a 43-character base64url key and refuses other shapes', () => {
    assert.equal((decodeKeyText('L-uJir09dPbb72urUGiGyMTdeRHdNB5_lwQCtM9hAgI') as Uint8Array).length, 32);
    assert.equal(typeof decodeKeyText('short'), 'string');
    assert.equal(typeof decodeKeyText('A'.repeat(43)), 'string', 'the all-zero key is refused');
    assert.match(decodeKeyText('a+b/'.repeat(10) + 'AAA') as string, /standard base64/);
  });

  it('derives the X25519 public key (RFC 7748 section 6.1 vector)', () => {
    const alicePriv = fromHex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
    assert.equal(hex(derivePublicKey(alicePriv)), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
  });

  it('private keys and secrets never serialise; public keys print as base64url', () => {
    const priv = Key.fromBytes('private', fromHex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'));
    const pub = Key.fromBytes('public', derivePublicKey(priv.bytes));
    const token = Secret.fromValue('example-admin-token-0123456789');
    const json = JSON.stringify({ priv, pub, token });
    assert.equal(json, `{"priv":"[redacted]","pub":"${pub.toBase64Url()}","token":"[redacted]"}`);
    assert.equal(`${priv}${token}`, '[redacted][redacted]');
  });

  it('an unresolved key throws BAD_CONFIG when its bytes are read', () => {
    const c = parseConfig('client', 'handlers: [wss://h.example/t]\nclusterPublicKey: { file: c.pub }\nkey: { privateKey: { env: K } }\n');
    assert.equal(c.key.privateKey.resolved, false);
    assert.throws(() => c.key.privateKey.bytes, { code: ErrorCode.BAD_CONFIG });
  });

  it('checks a given public key against its private key', () => {
    const text = (pub: string) =>
      `id: e\nregion: eu\nclusterPublicKey: ${pub}\nhandlers: [wss://h.example/l]\nkey: { privateKey: EXAMPLE-exit-asia-private-key-REPLACE-ME-AA, publicKey: ${pub} }\n`;
    const ok = parseConfig('exit', text('onnpINE0XATQPC1_2mPlhPalfbHF7dlHBQyKQ34zKio'));
    assert.equal(ok.key.publicKey.toBase64Url(), 'onnpINE0XATQPC1_2mPlhPalfbHF7dlHBQyKQ34zKio');
    assert.throws(() => parseConfig('exit', text('L-uJir09dPbb72urUGiGyMTdeRHdNB5_lwQCtM9hAgI')), (err: ConfigError) =>
      err.issues.some((i) => i.path === 'key.publicKey'),
    );
  });

  it('checks key pairs whose halves come from files after reading them', async () => {
    const io = memoryIO({
      '/k/exit.yaml': 'id: e\nregion: eu\nclusterPublicKey: { file: c.pub }\nhandlers: [wss://h.example/l]\nkey: { privateKey: { file: e.key }, publicKey: { file: e.pub } }\n',
      '/k/c.pub': 'L-uJir09dPbb72urUGiGyMTdeRHdNB5_lwQCtM9hAgI\n',
      '/k/e.key': 'EXAMPLE-exit-eu-private-key-REPLACE-ME-AAAA\n',
      '/k/e.pub': 'L-uJir09dPbb72urUGiGyMTdeRHdNB5_lwQCtM9hAgI\n',
    });
    await assert.rejects(loadConfig('exit', '/k/exit.yaml', io), (err: ConfigError) =>
      err.code === ErrorCode.BAD_CONFIG && err.issues.some((i) => i.path === 'key.publicKey'),
    );
  });

  it('reports a malformed key file without its content', async () => {
    const io = memoryIO({
      '/k/c.yaml': 'handlers: [wss://h.example/t]\nclusterPublicKey: L-uJir09dPbb72urUGiGyMTdeRHdNB5_lwQCtM9hAgI\nkey: { privateKey: { file: u.key } }\n',
      '/k/u.key': 'topsecret-but-not-a-key\n',
    });
    await assert.rejects(loadConfig('client', '/k/c.yaml', io), (err: ConfigError) => {
      assert.equal(err.issues[0]?.path, 'key.privateKey');
      assert.ok(!err.message.includes('topsecret'));
      return true;
    });
  });

  it('warns about key files readable by others', async () => {
    const warnings: string[] = [];
    const io = {
      ...memoryIO({
        '/k/c.yaml': 'handlers: [wss://h.example/t]\nclusterPublicKey: L-uJir09dPbb72urUGiGyMTdeRHdNB5_lwQCtM9hAgI\nkey: { privateKey: { file: u.key } }\n',
        '/k/u.key': 'EXAMPLE-user-alice-private-key-REPLACE-ME-A',
      }),
      fileMode: async () => 0o100644,
      warn: (m: string) => void warnings.push(m),
    };
    const c = await loadConfig('client', '/k/c.yaml', io);
    assert.equal(c.key.publicKey.toBase64Url(), 'NTFS0Ay14jgAxEBlvv6jBisjWX8jYFaCOAcJ5I3ENlc');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /0644/);
  });

  it('does not warn about a public key file readable by others', async () => {
    const warnings: string[] = [];
    const io = {
      ...memoryIO({
        '/k/c.yaml': 'handlers: [wss://h.example/t]\nclusterPublicKey: { file: cluster.pub }\nkey: { privateKey: { file: u.key } }\n',
        '/k/cluster.pub': 'L-uJir09dPbb72urUGiGyMTdeRHdNB5_lwQCtM9hAgI\n',
        '/k/u.key': 'EXAMPLE-user-alice-private-key-REPLACE-ME-A',
      }),
      fileMode: async (path: string) => (path.endsWith('.pub') ? 0o100644 : 0o100600),
      warn: (m: string) => void warnings.push(m),
    };
    await loadConfig('client', '/k/c.yaml', io);
    assert.deepEqual(warnings, []);
  });

  it('joins relative paths to the config directory', () => {
    assert.equal(joinPath('/etc/apfsds', 'keys/a.key'), '/etc/apfsds/keys/a.key');
    assert.equal(joinPath('/etc/apfsds', '/abs/a.key'), '/abs/a.key');
    assert.equal(joinPath('', 'a.key'), 'a.key');
    assert.equal(joinPath(undefined, 'a.key'), 'a.key');
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../../shared/errors.ts';
import { loadConfig, parseConfig, type ConfigError, type Role } from '../../../shared/config/index.ts';
import { memoryIO } from './io.ts';

const CLUSTER_PRIV = 'EXAMPLE-cluster-private-key-REPLACE-ME-AAAA';
const EXIT_PUB = 'LEZsSy_ORazKHM-u3dC_0Eqtb0c3ocZdObsQQqGjvVY';

const HANDLER = `
path: /t-secret
clusterKey: { privateKey: ${CLUSTER_PRIV} }
admin: { token: example-admin-token-0123456789 }
exits:
  - { id: us, url: "wss://us.example/l", region: us, weight: 1, publicKey: ${EXIT_PUB} }
  - { id: eu, url: "wss://eu.example/l", region: eu, weight: 1, publicKey: ${EXIT_PUB} }
`;

/** Parses, expects BAD_CONFIG, returns the error. */
function reject(role: Role, text: string, env: Record<string, string> = {}): ConfigError {
  try {
    parseConfig(role, text, { env, source: 'test.yaml' });
  } catch (err) {
    assert.equal((err as ConfigError).code, ErrorCode.BAD_CONFIG);
    assert.ok(Array.isArray((err as ConfigError).issues));
    return err as ConfigError;
  }
  assert.fail('expected the config to be rejected');
}

function issueAt(err: ConfigError, path: string) {
  const found = err.issues.find((i) => i.path === path);
  assert.ok(found, `expected an issue at ${path}; got ${err.issues.map((i) => i.path).join(', ')}`);
  assert.ok(err.message.includes(`${path}: `), 'the message names the field path');
  return found;
}

describe('parseConfig', () => {
  it('accepts a minimal handler config and fills every default', () => {
    const h = parseConfig('handler', HANDLER);
    assert.equal(h.listen.port, 443);
    assert.equal(h.exits[1]?.weight, 1);
    assert.equal(h.exits[0]?.mode, 'dial');
    assert.equal(h.admin.host, '127.0.0.1');
  });

  it('rejects a value of the wrong type naming the field', () => {
    const err = reject('handler', `${HANDLER}listen: { port: "eighty" }\n`);
    assert.match(issueAt(err, 'listen.port').message, /got "eighty"/);
  });

  it('rejects a negative exit weight at exits[1].weight', () => {
    const err = reject('handler', HANDLER.replace('region: eu, weight: 1', 'region: eu, weight: -1'));
    assert.match(issueAt(err, 'exits[1].weight').message, /greater than 0.*got -1/);
  });

  it('rejects a malformed key without echoing it', () => {
    const bad = 'THIS-is-not-a-key-but-a-secret-looking-thing';
    const err = reject('handler', HANDLER.replace(CLUSTER_PRIV, bad));
    issueAt(err, 'clusterKey.privateKey');
    assert.ok(!err.message.includes(bad), 'the bad private key is not in the message');
    assert.ok(!JSON.stringify(err.issues).includes(bad));
  });

  it('rejects standard base64 keys with a hint to use base64url', () => {
    const err = reject('handler', HANDLER.replace(CLUSTER_PRIV, 'a+b/'.repeat(10) + 'AAA='));
    assert.match(issueAt(err, 'clusterKey.privateKey').message, /base64url/);
  });

  it('rejects an unknown field and suggests the one meant', () => {
    const err = reject('handler', `${HANDLER}lisen: { port: 8443 }\n`);
    assert.match(issueAt(err, 'lisen').message, /unknown field; did you mean "listen"\?/);
    const nested = reject('client', 'handlers: [wss://h.example/x]\nclusterPublicKey: ' + EXIT_PUB + `\nkey: { privateKey: ${CLUSTER_PRIV} }\nkeepalive: { intervall: 5s }\n`);
    assert.match(issueAt(nested, 'keepalive.intervall').message, /did you mean "interval"/);
  });

  it('rejects a URL with the wrong scheme or without the secret path', () => {
    const err = reject('handler', HANDLER.replace('wss://us.example/l', 'https://us.example/l'));
    assert.match(issueAt(err, 'exits[0].url').message, /ws:\/\/ or wss:\/\//);
    const client = reject('client', `handlers: [wss://h.example]\nclusterPublicKey: ${EXIT_PUB}\nkey: { privateKey: ${CLUSTER_PRIV} }\n`);
    assert.match(issueAt(client, 'handlers[0]').message, /secret path/);
  });

  it('rejects a bad CIDR and normalises good ones', () => {
    const base = `id: e1\nregion: us\nkey: { privateKey: ${CLUSTER_PRIV} }\nclusterPublicKey: ${EXIT_PUB}\nlisten: { path: /l1 }\n`;
    const err = reject('exit', `${base}egress: { allow: [10.0.0.0/8, 10.0.0.0/33] }\n`);
    assert.match(issueAt(err, 'egress.allow[1]').message, /CIDR/);
    const ok = parseConfig('exit', `${base}egress: { allow: [127.0.0.1, "FD00::/8", 10.1.0.0/16] }\n`);
    assert.deepEqual(ok.egress.allow, ['127.0.0.1/32', 'fd00::/8', '10.1.0.0/16']);
  });

  it('reports a YAML syntax error with its line number', () => {
    const err = reject('client', 'handlers:\n  - wss://h.example/x\nkey: { privateKey: [1, 2\nregion: eu\n');
    assert.ok(err instanceof SyntaxError);
    const issue = err.issues[0];
    assert.ok(issue?.line !== undefined && issue.line >= 3, `line ${issue?.line}`);
    assert.match(err.message, /line \d+, column \d+/);
  });

  it('rejects duplicate keys in YAML', () => {
    const err = reject('up', 'host: 127.0.0.1\nhost: 0.0.0.0\n');
    assert.equal(err.issues[0]?.line, 2);
  });

  it('reads JSON as well as YAML', () => {
    const up = parseConfig('up', '{ "ports": { "proxy": 1081 }, "allowEgress": ["127.0.0.1/32"] }');
    assert.equal(up.ports.proxy, 1081);
    assert.equal(up.ports.handler, 8443);
  });

  it('rejects a document that is not a mapping', () => {
    const err = reject('up', '- a\n- b\n');
    assert.equal(err.issues[0]?.path, '');
  });

  it('lists every problem at once', () => {
    const err = reject('handler', `${HANDLER.replace('weight: 1', 'weight: 0')}listen: { port: 70000 }\ntypo: 1\n`);
    for (const p of ['exits[0].weight', 'listen.port', 'typo']) issueAt(err, p);
  });

  it('hides secret values and names missing required fields', () => {
    const err = reject('handler', 'admin: { token: short }\n');
    issueAt(err, 'path');
    issueAt(err, 'clusterKey');
    assert.match(issueAt(err, 'admin.token').message, /at least 16/);
    assert.ok(!err.message.includes('short'));
  });

  it('refuses an enabled admin API without a token', () => {
    const err = reject('handler', HANDLER.replace('admin: { token: example-admin-token-0123456789 }', ''));
    issueAt(err, 'admin.token');
  });

  it('checks cross-field rules: backoff order, dial exits need a URL, raft peers include this node', () => {
    const e1 = reject('handler', `${HANDLER}health: { ejectBackoffMin: 10m, ejectBackoffMax: 1m }\n`);
    issueAt(e1, 'health.ejectBackoffMax');
    const e2 = reject('handler', HANDLER.replace('url: "wss://eu.example/l", ', ''));
    issueAt(e2, 'exits[1].url');
    const e3 = reject('handler', `${HANDLER}raft: { peers: [{ id: h2, url: "ws://h2:7443" }, { id: h3, url: "ws://h3:7443" }] }\n`);
    issueAt(e3, 'raft.peers');
    const e4 = reject('handler', HANDLER.replace('id: eu', 'id: us'));
    issueAt(e4, 'exits[1].id');
  });

  it('parses durations and sizes with units', () => {
    const h = parseConfig('handler', `${HANDLER}limits: { idleTimeout: 2m, maxFrameSize: 32KiB, userBandwidth: { rate: 1.5MB } }\n`);
    assert.equal(h.limits.idleTimeout, 120_000);
    assert.equal(h.limits.maxFrameSize, 32_768);
    assert.equal(h.limits.userBandwidth.rate, 1_500_000);
    assert.equal(h.limits.userBandwidth.burst, 4_194_304);
  });
});

describe('loadConfig', () => {
  it('reads the file, resolves relative key files and env secrets', async () => {
    const io = memoryIO(
      {
        '/etc/apfsds/handler.yaml': `path: /t1\nclusterKey: { privateKey: { file: keys/cluster.key } }\nadmin: { token: { env: TOKEN } }\n`,
        '/etc/apfsds/keys/cluster.key': `${CLUSTER_PRIV}\n`,
      },
      { TOKEN: 'example-admin-token-0123456789' },
    );
    const h = await loadConfig('handler', '/etc/apfsds/handler.yaml', io);
    assert.equal(h.clusterKey.publicKey.toBase64Url(), 'L-uJir09dPbb72urUGiGyMTdeRHdNB5_lwQCtM9hAgI');
    assert.equal(h.admin.token?.value, 'example-admin-token-0123456789');
  });

  it('fails with BAD_CONFIG naming the field when a key file is missing or an env secret unset', async () => {
    const io = memoryIO({ '/c/h.yaml': `path: /t1\nclusterKey: { privateKey: { file: nope.key } }\nadmin: { token: { env: NOPE } }\n` });
    await assert.rejects(loadConfig('handler', '/c/h.yaml', io), (err: ConfigError) => {
      assert.equal(err.code, ErrorCode.BAD_CONFIG);
      assert.deepEqual(err.issues.map((i) => i.path).sort(), ['admin.token', 'clusterKey.privateKey']);
      assert.match(err.message, /\/c\/nope\.key/);
      return true;
    });
  });

  it('fails with BAD_CONFIG when the config file cannot be read', async () => {
    await assert.rejects(loadConfig('client', '/missing.yaml', memoryIO({})), { code: ErrorCode.BAD_CONFIG });
  });

  it('takes the path from APFSDS_CONFIG and can run from env alone', async () => {
    const io = memoryIO({ '/x/up.yaml': 'ports: { proxy: 1090 }\n' }, { APFSDS_CONFIG: '/x/up.yaml' });
    assert.equal((await loadConfig('up', undefined, io)).ports.proxy, 1090);
    const envOnly = memoryIO({}, { APFSDS_UP__PORTS__PROXY: '1091' });
    assert.equal((await loadConfig('up', undefined, envOnly)).ports.proxy, 1091);
  });
});

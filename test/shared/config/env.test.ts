import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../../shared/errors.ts';
import { camelCase, parseConfig, type ConfigError } from '../../../shared/config/index.ts';

const CLIENT = `handlers: [wss://h1.example/t]
clusterPublicKey: L-uJir09dPbb72urUGiGyMTdeRHdNB5_lwQCtM9hAgI
key: { privateKey: EXAMPLE-user-alice-private-key-REPLACE-ME-A }
`;
const EXIT = `id: e1
region: us
key: { privateKey: EXAMPLE-exit-eu-private-key-REPLACE-ME-AAAA }
clusterPublicKey: L-uJir09dPbb72urUGiGyMTdeRHdNB5_lwQCtM9hAgI
listen: { path: /l1 }
`;
const HANDLER = `path: /t1
clusterKey: { privateKey: EXAMPLE-cluster-private-key-REPLACE-ME-AAAA }
admin: { enabled: false }
exits:
  - { id: us, url: "wss://us.example/l", region: us, publicKey: LEZsSy_ORazKHM-u3dC_0Eqtb0c3ocZdObsQQqGjvVY }
  - { id: eu, url: "wss://eu.example/l", region: eu, publicKey: 3m5soS3GIrKQvOM88Sj50J4nRXC51WXVSXG00dulTQ8 }
`;

describe('environment overrides', () => {
  it('maps APFSDS_CLIENT__LISTEN__PORT=1081 to client listen.port as a number', () => {
    const c = parseConfig('client', CLIENT, { env: { APFSDS_CLIENT__LISTEN__PORT: '1081' } });
    assert.equal(c.listen.port, 1081);
    assert.equal(c.listen.host, '127.0.0.1');
  });

  it('turns SCREAMING_SNAKE segments into camelCase field names', () => {
    assert.equal(camelCase('MAX_STREAMS_PER_SESSION'), 'maxStreamsPerSession');
    const h = parseConfig('handler', HANDLER, {
      env: { APFSDS_HANDLER__LIMITS__MAX_STREAMS_PER_SESSION: '64', APFSDS_HANDLER__LIMITS__IDLE_TIMEOUT: '90s' },
    });
    assert.equal(h.limits.maxStreamsPerSession, 64);
    assert.equal(h.limits.idleTimeout, 90_000);
  });

  it('indexes arrays with numeric segments (exits[1].weight)', () => {
    const h = parseConfig('handler', HANDLER, { env: { APFSDS_HANDLER__EXITS__1__WEIGHT: '3' } });
    assert.deepEqual(h.exits.map((e) => e.weight), [1, 3]);
  });

  it('splits lists on commas and parses booleans', () => {
    const c = parseConfig('client', CLIENT, {
      env: { APFSDS_CLIENT__HANDLERS: 'wss://a.example/t, wss://b.example/t', APFSDS_CLIENT__STATUS__ENABLED: 'true' },
    });
    assert.deepEqual(c.handlers, ['wss://a.example/t', 'wss://b.example/t']);
    assert.equal(c.status.enabled, true);
  });

  it('keeps digit-only text as a string where the schema wants a string', () => {
    const h = parseConfig('handler', HANDLER, { env: { APFSDS_HANDLER__NODE_ID: '2' } });
    assert.equal(h.nodeId, '2');
  });

  it('accepts JSON for lists of objects', () => {
    const users = JSON.stringify([{ id: 'carol', publicKey: 'NTFS0Ay14jgAxEBlvv6jBisjWX8jYFaCOAcJ5I3ENlc' }]);
    const h = parseConfig('handler', HANDLER, { env: { APFSDS_HANDLER__USERS: users } });
    assert.equal(h.users[0]?.id, 'carol');
  });

  it('sets a key from a file reference through a nested variable', () => {
    const c = parseConfig('client', CLIENT, { env: { APFSDS_CLIENT__KEY__PRIVATE_KEY__FILE: '/run/secrets/user.key' } });
    assert.equal(c.key.privateKey.source, 'file');
    assert.equal(c.key.privateKey.location, '/run/secrets/user.key');
  });

  it('APFSDS_EGRESS_ALLOW sets the exit allow list and the all-in-one allowEgress', () => {
    const e = parseConfig('exit', EXIT, { env: { APFSDS_EGRESS_ALLOW: '127.0.0.1/32,::1' } });
    assert.deepEqual(e.egress.allow, ['127.0.0.1/32', '::1/128']);
    const up = parseConfig('up', '', { env: { APFSDS_EGRESS_ALLOW: '10.0.0.0/8' } });
    assert.deepEqual(up.allowEgress, ['10.0.0.0/8']);
  });

  it('a nested variable wins over the shorthand for the same field', () => {
    const e = parseConfig('exit', EXIT, {
      env: { APFSDS_EGRESS_ALLOW: '10.0.0.0/8', APFSDS_EXIT__EGRESS__ALLOW: '192.168.0.0/16' },
    });
    assert.deepEqual(e.egress.allow, ['192.168.0.0/16']);
  });

  it('APFSDS_LOG_LEVEL sets log.level of any role', () => {
    assert.equal(parseConfig('up', '', { env: { APFSDS_LOG_LEVEL: 'debug' } }).log.level, 'debug');
    assert.equal(parseConfig('client', CLIENT, { env: { APFSDS_LOG_LEVEL: 'warn' } }).log.level, 'warn');
  });

  it('ignores variables of other roles, empty values and unrelated APFSDS_ names', () => {
    const c = parseConfig('client', CLIENT, {
      env: { APFSDS_EXIT__ID: 'x', APFSDS_CLIENT__POOL_SIZE: '', APFSDS_TEST_RUNTIME: 'node', APFSDS_EGRESS_ALLOW: 'bad' },
    });
    assert.equal(c.poolSize, 2);
  });

  it('names the variable when its value or field is wrong', () => {
    assert.throws(
      () => parseConfig('client', CLIENT, { env: { APFSDS_CLIENT__LISTEN__PORT: 'http', APFSDS_CLIENT__LISTN__HOST: '::1' } }),
      (err: ConfigError) => {
        assert.equal(err.code, ErrorCode.BAD_CONFIG);
        const port = err.issues.find((i) => i.path === 'listen.port');
        assert.equal(port?.variable, 'APFSDS_CLIENT__LISTEN__PORT');
        const typo = err.issues.find((i) => i.path === 'listn');
        assert.equal(typo?.variable, 'APFSDS_CLIENT__LISTN__HOST');
        assert.match(typo?.message ?? '', /did you mean "listen"/);
        return true;
      },
    );
  });

  it('rejects a variable with an empty field name', () => {
    assert.throws(() => parseConfig('client', CLIENT, { env: { APFSDS_CLIENT__LISTEN____PORT: '1' } }), {
      code: ErrorCode.BAD_CONFIG,
    });
  });

  it('never echoes a secret set through the environment', () => {
    const secret = 'not-a-key-but-very-secret';
    assert.throws(
      () => parseConfig('client', CLIENT, { env: { APFSDS_CLIENT__KEY__PRIVATE_KEY: secret } }),
      (err: ConfigError) => !err.message.includes(secret) && err.issues.some((i) => i.path === 'key.privateKey'),
    );
  });
});

describe('environment overrides of key and secret references', () => {
  const withToken = HANDLER.replace('admin: { enabled: false }', 'admin: { token: { env: ADMIN_TOKEN } }');

  it('a __FILE variable replaces an { env } reference instead of adding to it', () => {
    const c = parseConfig('handler', withToken, { env: { APFSDS_HANDLER__ADMIN__TOKEN__FILE: '/run/secrets/token' } });
    assert.equal(c.admin.token?.source, 'file');
    assert.equal(c.admin.token?.location, '/run/secrets/token');
  });

  it('a JSON object value is read as a reference, not as a literal secret', () => {
    const c = parseConfig('handler', withToken, { env: { APFSDS_HANDLER__ADMIN__TOKEN: '{"file":"/run/secrets/token"}' } });
    assert.equal(c.admin.token?.source, 'file');
    assert.equal(c.admin.token?.location, '/run/secrets/token');
  });
});

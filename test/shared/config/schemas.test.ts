import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../../shared/errors.ts';
import {
  LIMIT_DEFAULTS,
  LimitsSchema,
  decodeKeyText,
  expandUpConfig,
  parseConfig,
  type ConfigError,
} from '../../../shared/config/index.ts';

const KEY = 'EXAMPLE-cluster-private-key-REPLACE-ME-AAAA';
const PUB = 'L-uJir09dPbb72urUGiGyMTdeRHdNB5_lwQCtM9hAgI';

/** Fixed keys, token and paths for expandUpConfig, with the ports `up` bound. */
function upMaterial(boundPorts: { handler?: number }): Parameters<typeof expandUpConfig>[1] {
  const key = (s: string) => decodeKeyText(s) as Uint8Array;
  return {
    clusterPrivateKey: key(KEY),
    exitPrivateKey: key('EXAMPLE-exit-us-private-key-REPLACE-ME-AAAA'),
    userPrivateKey: key('EXAMPLE-user-alice-private-key-REPLACE-ME-A'),
    adminToken: 'generated-admin-token-0123456789',
    path: '/gen-session-path',
    linkPath: '/gen-link-path',
    boundPorts,
  };
}

describe('schemas', () => {
  it('every session limit has a default (ARCHITECTURE 7)', () => {
    const limits = LimitsSchema.parse({});
    assert.deepEqual(limits, LIMIT_DEFAULTS);
    assert.ok(limits.handshakeTimeout > 0 && limits.idleTimeout > 0);
    assert.ok(limits.maxSessionsPerUser > 0 && limits.maxStreamsPerSession > 0 && limits.maxFrameSize > 0);
    assert.ok(limits.userBandwidth.rate > 0 && limits.connectionRate.rate > 0);
  });

  it('handler: defaults for listeners, health, raft, admin and decoy', () => {
    const h = parseConfig('handler', `path: /t1\nclusterKey: { privateKey: ${KEY} }\nadmin: { token: example-admin-token-0123456789 }\n`);
    assert.equal(h.nodeId, 'h1');
    assert.deepEqual(h.listen, { host: '0.0.0.0', port: 443 });
    assert.equal(h.tls, undefined);
    assert.deepEqual(h.decoy, { mode: 'builtin' });
    assert.equal(h.admin.host, '127.0.0.1');
    assert.equal(h.health.failureThreshold, 5);
    assert.deepEqual(h.raft.peers, []);
    assert.equal(h.raft.electionTicks, 10);
    assert.equal(h.metrics.path, '/metrics');
    assert.equal(h.clusterKey.publicKey.toBase64Url(), PUB);
  });

  it('handler: refuses "/" as the secret path and a path without a leading slash', () => {
    for (const path of ['/', 'tunnel', '/a/../b']) {
      assert.throws(
        () => parseConfig('handler', `path: "${path}"\nclusterKey: { privateKey: ${KEY} }\nadmin: { enabled: false }\n`),
        (err: ConfigError) => err.code === ErrorCode.BAD_CONFIG && err.issues.some((i) => i.path === 'path'),
        path,
      );
    }
  });

  it('handler: raft.join needs raft.peers, and up gives its one user an unthrottled bucket', () => {
    const base = `path: /t1\nclusterKey: { privateKey: ${KEY} }\nadmin: { enabled: false }\n`;
    assert.throws(
      () => parseConfig('handler', `${base}raft: { join: true }\n`),
      (err: ConfigError) => err.code === ErrorCode.BAD_CONFIG && err.issues.some((i) => i.path === 'raft.join'),
    );
    const joined = parseConfig('handler', `${base}raft: { join: true, peers: [{ id: h1, url: "ws://127.0.0.1:7443/raft" }, { id: h2, url: "ws://127.0.0.1:7444/raft" }] }\n`);
    assert.equal(joined.raft.join, true);
    assert.equal(parseConfig('handler', base).limits.userBandwidth.rate, LIMIT_DEFAULTS.userBandwidth.rate);
    assert.ok(parseConfig('up', 'limits: { maxStreamsPerSession: 100 }\n').limits.userBandwidth.rate > LIMIT_DEFAULTS.userBandwidth.rate);
  });

  it('handler: users default to active, exits to dial, active and weight 1; regions are lower-cased', () => {
    const h = parseConfig(
      'handler',
      `path: /t1\nclusterKey: { privateKey: ${KEY} }\nadmin: { enabled: false }\n` +
        `users: [{ id: u1, publicKey: ${PUB}, allowedRegions: [EU] }]\n` +
        `exits: [{ id: e1, url: "wss://e1.example/l", region: US, publicKey: ${PUB} }]\n` +
        `decoy: { mode: proxy, upstream: "https://www.example.org" }\n`,
    );
    assert.equal(h.users[0]?.status, 'active');
    assert.deepEqual(h.users[0]?.allowedRegions, ['eu']);
    assert.equal(h.users[0]?.quota, undefined);
    assert.deepEqual([h.exits[0]?.mode, h.exits[0]?.state, h.exits[0]?.weight, h.exits[0]?.region], ['dial', 'active', 1, 'us']);
    assert.deepEqual(h.decoy, { mode: 'proxy', upstream: 'https://www.example.org' });
  });

  it('exit: needs listen or reverse-mode handlers, and blocks private ranges by default', () => {
    const base = `id: e1\nregion: us\nkey: { privateKey: ${KEY} }\nclusterPublicKey: ${PUB}\n`;
    assert.throws(() => parseConfig('exit', base), (err: ConfigError) => err.issues.some((i) => i.path === 'listen'));
    const e = parseConfig('exit', `${base}handlers: [wss://h1.example/l]\n`);
    assert.deepEqual(e.egress.allow, []);
    assert.deepEqual([e.dns.prefer, e.udp.enabled, e.connectTimeout], ['ipv4', true, 10_000]);
    assert.equal(e.status.host, '127.0.0.1');
  });

  it('client: listens on 127.0.0.1:1080 with a pool of 2 and jittered backoff by default', () => {
    const c = parseConfig('client', `handlers: [wss://h.example/t]\nclusterPublicKey: ${PUB}\nkey: { privateKey: ${KEY} }\n`);
    assert.deepEqual(c.listen, { host: '127.0.0.1', port: 1080 });
    assert.equal(c.poolSize, 2);
    assert.deepEqual(c.reconnect, { min: 500, max: 30_000, jitter: 0.5 });
    assert.deepEqual(c.tls.pinSha256, []);
    assert.equal(c.auth, undefined);
  });

  it('client: validates certificate pins and backoff order', () => {
    const base = `handlers: [wss://h.example/t]\nclusterPublicKey: ${PUB}\nkey: { privateKey: ${KEY} }\n`;
    const pin = 'E9CZ9INDbd+2eRQozYqqbQ2yXLVKB9+xcprMF+44U1g=';
    const hexPin = '13:D0:99:F4:83:43:6D:DF:B6:79:14:28:CD:8A:AA:6D:0D:B2:5C:B5:4A:07:DF:B1:72:9A:CC:17:EE:38:53:58';
    assert.deepEqual(parseConfig('client', `${base}tls: { pinSha256: ["${pin}", "${hexPin}"] }\n`).tls.pinSha256, [pin, hexPin]);
    assert.throws(() => parseConfig('client', `${base}tls: { pinSha256: [abc] }\n`), { code: ErrorCode.BAD_CONFIG });
    assert.throws(() => parseConfig('client', `${base}reconnect: { min: 1m, max: 1s }\n`), (err: ConfigError) =>
      err.issues.some((i) => i.path === 'reconnect.max'),
    );
  });

  it('up: expands into handler, exit and client configs that fit together', () => {
    const up = parseConfig('up', 'allowEgress: [127.0.0.1/32]\nports: { handler: 0 }\n');
    const roles = expandUpConfig(up, upMaterial({ handler: 40001 }));
    assert.equal(roles.client.handlers[0], 'ws://127.0.0.1:40001/gen-session-path');
    assert.equal(roles.client.clusterPublicKey.toBase64Url(), roles.handler.clusterKey.publicKey.toBase64Url());
    assert.equal(roles.exit.clusterPublicKey.toBase64Url(), PUB);
    assert.equal(roles.handler.users[0]?.publicKey.toBase64Url(), roles.client.key.publicKey.toBase64Url());
    assert.equal(roles.handler.exits[0]?.publicKey.toBase64Url(), roles.exit.key.publicKey.toBase64Url());
    assert.equal(roles.handler.exits[0]?.url, 'ws://127.0.0.1:8444/gen-link-path');
    assert.equal(roles.exit.listen?.path, '/gen-link-path');
    assert.deepEqual(roles.exit.egress.allow, ['127.0.0.1/32']);
    assert.equal(roles.handler.admin.token?.value, 'generated-admin-token-0123456789');
    assert.equal(roles.handler.raft.dataDir, './.apfsds/raft');
  });

  it('up: its window limits reach all three roles, so a 0 turns auto-tuning off everywhere', () => {
    const up = parseConfig('up', 'limits: { maxStreamWindow: 0, maxSessionWindow: 0, windowGrowthBudget: 1MiB }\n');
    const roles = expandUpConfig(up, upMaterial({}));
    const limits = (l: { maxStreamWindow: number; windowGrowthBudget: number }) => [l.maxStreamWindow, l.windowGrowthBudget];
    assert.deepEqual(limits(roles.handler.limits), [0, 1 << 20]);
    assert.deepEqual(limits(roles.exit.limits), [0, 1 << 20]);
    assert.deepEqual(limits(roles.client.limits), [0, 1 << 20]);
    assert.equal(roles.handler.limits.maxSessionWindow, 0);
    assert.equal(roles.exit.limits.maxLinkWindow, 0);
    assert.equal(roles.client.limits.maxSessionWindow, 0);
  });
});

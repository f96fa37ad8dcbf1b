import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  childLogger,
  createLogger,
  exitLogger,
  getLogger,
  initLogger,
  redactSecrets,
  resolveLevel,
  sessionLogger,
  streamLogger,
  userLogger,
  type LogOptions,
} from '../../shared/log.ts';
import { parseConfig } from '../../shared/config/index.ts';

function capture(options: Omit<LogOptions, 'destination'>) {
  const lines: string[] = [];
  const logger = createLogger({ ...options, destination: { write: (s: string) => void lines.push(s) } });
  const json = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, lines, json };
}

describe('log', () => {
  it('writes JSON lines with stable base fields and a level label', () => {
    const { logger, json } = capture({ role: 'handler', node: 'h1', format: 'json' });
    logger.info({ bytes: 5 }, 'hello');
    const [line] = json();
    assert.equal(line?.['role'], 'handler');
    assert.equal(line?.['node'], 'h1');
    assert.equal(line?.['level'], 'info');
    assert.equal(line?.['msg'], 'hello');
    assert.equal(line?.['bytes'], 5);
    assert.equal(typeof line?.['time'], 'number');
  });

  it('child loggers add session, user, stream and exit fields', () => {
    const { logger, json } = capture({ role: 'handler', node: 'h2', format: 'json' });
    streamLogger(sessionLogger(logger, 's-1', 'alice'), 7).info('open');
    exitLogger(userLogger(logger, 'bob'), 'exit-eu').warn('slow');
    childLogger(logger, { unit: 'exit' }).info('up');
    const [a, b, c] = json();
    assert.deepEqual([a?.['session'], a?.['user'], a?.['stream']], ['s-1', 'alice', 7]);
    assert.deepEqual([b?.['user'], b?.['exit'], b?.['level']], ['bob', 'exit-eu', 'warn']);
    assert.equal(c?.['unit'], 'exit');
    assert.equal(c?.['role'], 'handler');
  });

  it('redacts keys, tokens and authorization headers at any depth without touching the object', () => {
    const { logger, lines } = capture({ role: 'exit', format: 'json' });
    const obj = {
      privateKey: 'PRIVATE-KEY-BYTES',
      link: { key: 'LINK-KEY', peer: 'h1' },
      admin: { token: 'ADMIN-TOKEN' },
      req: { headers: { Authorization: 'Bearer SECRET-BEARER', host: 'example.com' } },
      deep: [{ a: { b: { c: { sharedSecret: 'DEEP-SECRET' } } } }],
      userPassword: 'PASSWORD',
    };
    const before = JSON.stringify(obj);
    logger.info(obj, 'with secrets');
    const out = lines.join('');
    for (const s of ['PRIVATE-KEY-BYTES', 'LINK-KEY', 'ADMIN-TOKEN', 'SECRET-BEARER', 'DEEP-SECRET', 'PASSWORD']) {
      assert.ok(!out.includes(s), `${s} leaked`);
    }
    const line = JSON.parse(out) as { privateKey: string; link: { peer: string }; req: { headers: { host: string } } };
    assert.equal(line.privateKey, '[redacted]');
    assert.equal(line.link.peer, 'h1');
    assert.equal(line.req.headers.host, 'example.com');
    assert.equal(JSON.stringify(obj), before, 'the logged object is unchanged');
  });

  it('a logged config shows private keys and secrets redacted and public keys in full', () => {
    const { logger, lines } = capture({ role: 'client', format: 'json' });
    const config = parseConfig(
      'client',
      'handlers: [wss://h.example/t]\nclusterPublicKey: L-uJir09dPbb72urUGiGyMTdeRHdNB5_lwQCtM9hAgI\n' +
        'key: { privateKey: EXAMPLE-user-alice-private-key-REPLACE-ME-A }\nauth: { username: me, password: hunter2-secret }\n',
    );
    logger.info({ config }, 'config');
    const out = lines.join('');
    assert.ok(!out.includes('EXAMPLE-user-alice'));
    assert.ok(!out.includes('hunter2-secret'));
    assert.ok(out.includes('L-uJir09dPbb72urUGiGyMTdeRHdNB5_lwQCtM9hAgI'));
    assert.equal(config.key.privateKey.bytes.length, 32, 'the config still works after logging');
  });

  it('redactSecrets shares unchanged branches and copies changed ones', () => {
    const clean = { a: { b: 1 } };
    assert.equal(redactSecrets(clean), clean);
    const dirty = { a: { b: 1 }, c: { token: 'x' } };
    const out = redactSecrets(dirty);
    assert.equal(out.a, dirty.a);
    assert.deepEqual(out.c, { token: '[redacted]' });
    assert.equal(dirty.c.token, 'x');
  });

  it('takes the level from APFSDS_LOG_LEVEL first, then config, then info', () => {
    assert.equal(resolveLevel({ level: 'warn', env: { APFSDS_LOG_LEVEL: 'debug' } }), 'debug');
    assert.equal(resolveLevel({ level: 'warn', env: { APFSDS_LOG_LEVEL: 'loud' } }), 'warn');
    assert.equal(resolveLevel({}), 'info');
    const { logger, lines } = capture({ role: 'up', level: 'info', format: 'json', env: { APFSDS_LOG_LEVEL: 'error' } });
    logger.warn('dropped');
    logger.error('kept');
    assert.equal(lines.length, 1);
  });

  it('pretty format prints a human line and still redacts', () => {
    const { logger, lines } = capture({ role: 'exit', node: 'e1', format: 'pretty' });
    logger.info({ token: 'PRETTY-TOKEN', n: 1 }, 'pretty line');
    const out = lines.join('');
    assert.match(out, /INFO.*pretty line/);
    assert.ok(!out.includes('PRETTY-TOKEN'));
    assert.throws(() => JSON.parse(out));
  });

  it('auto format is JSON when stdout is not a terminal and pretty when it is', () => {
    const plain = capture({ role: 'exit', format: 'auto', isTty: false });
    plain.logger.info('x');
    assert.doesNotThrow(() => plain.json());
    const tty = capture({ role: 'exit', format: 'auto', isTty: true });
    tty.logger.info('x');
    assert.throws(() => tty.json());
  });

  it('initLogger sets the process logger that getLogger returns', () => {
    const lines: string[] = [];
    const logger = initLogger({ role: 'cli', format: 'json', destination: { write: (s: string) => void lines.push(s) } });
    assert.equal(getLogger(), logger);
    getLogger().info('via process logger');
    assert.equal(lines.length, 1);
  });
});

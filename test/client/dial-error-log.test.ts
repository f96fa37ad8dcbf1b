import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDialErrorLog } from '../../client/dial-error-log.ts';
import type { Logger } from '../../shared/log.ts';

function recordingLogger() {
  const lines: { level: string; fields: Record<string, unknown>; message: string }[] = [];
  const at = (level: string) => (fields: Record<string, unknown>, message: string) => void lines.push({ level, fields, message });
  const logger = { error: at('error'), warn: at('warn'), debug: at('debug') } as unknown as Logger;
  return { logger, lines };
}

test('a repeating dial failure is logged once per quiet period, with the repeats counted', () => {
  const { logger, lines } = recordingLogger();
  let now = 0;
  const log = createDialErrorLog(logger, () => now, 60_000);
  for (let i = 0; i < 5; i++) {
    log.log(0, 'error', { handler: 0 }, 'certificate pin mismatch');
    now += 1_000;
  }
  assert.deepEqual(lines.map((l) => l.level), ['error', 'debug', 'debug', 'debug', 'debug']);
  now += 60_000;
  log.log(0, 'error', { handler: 0 }, 'certificate pin mismatch');
  assert.equal(lines.at(-1)?.level, 'error');
  assert.equal(lines.at(-1)?.fields['repeatedSinceLastLine'], 4);
});

test('a new reason, another handler, or a reset after a session came up is logged at once', () => {
  const { logger, lines } = recordingLogger();
  const log = createDialErrorLog(logger, () => 0, 60_000);
  log.log(0, 'warn', {}, 'connection refused');
  log.log(0, 'warn', {}, 'handshake timed out');
  log.log(1, 'warn', {}, 'handshake timed out');
  log.reset();
  log.log(1, 'warn', {}, 'handshake timed out');
  assert.deepEqual(lines.map((l) => l.level), ['warn', 'warn', 'warn', 'warn']);
});

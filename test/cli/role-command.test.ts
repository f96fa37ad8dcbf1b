import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommandArgs } from '../../cli/role-command.ts';

const OPTIONS = { config: { type: 'string', short: 'c' }, 'allow-egress': { type: 'string', multiple: true } } as const;

// parseArgs returns null-prototype objects; compare plain copies.
const parse = (argv: string[]) => {
  const v = parseCommandArgs(argv, OPTIONS, 'usage');
  return typeof v === 'number' ? v : { ...v };
};

test('parseCommandArgs() returns the values of --config FILE, --config=FILE, -c and repeated flags', () => {
  assert.deepEqual(parse(['--config', 'a.yaml']), { config: 'a.yaml' });
  assert.deepEqual(parse(['--config=b.yaml']), { config: 'b.yaml' });
  assert.deepEqual(parse(['-c', 'c.yaml', '--allow-egress', '127.0.0.0/8', '--allow-egress', '::1/128']), {
    config: 'c.yaml',
    'allow-egress': ['127.0.0.0/8', '::1/128'],
  });
  assert.deepEqual(parse([]), {});
});

test('parseCommandArgs() answers 0 for --help and 2 for an unknown option or a missing value', (t) => {
  const printed: string[] = [];
  t.mock.method(console, 'log', (m: string) => void printed.push(m));
  t.mock.method(console, 'error', (m: string) => void printed.push(m));
  assert.equal(parseCommandArgs(['-h'], OPTIONS, 'the usage text'), 0);
  assert.equal(parseCommandArgs(['--port', '1'], OPTIONS, 'the usage text'), 2);
  assert.equal(parseCommandArgs(['--config'], OPTIONS, 'the usage text'), 2);
  assert.equal(parseCommandArgs(['stray'], OPTIONS, 'the usage text'), 2);
  assert.equal(printed.length, 4);
  assert.ok(printed.every((m) => m.includes('the usage text')));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  COMMAND_OPS,
  STATE_LIMITS,
  checkCommand,
  decodeCommand,
  encodeCommand,
  parseCommandBytes,
  type Command,
} from '../../../handler/state/commands.ts';
import { ErrorCode, hasCode } from '../../../shared/errors.ts';
import { createUser, key, mixedCommands, raw } from './fixtures.ts';

test('every command in the mixed sequence survives encode and decode unchanged', () => {
  for (const c of mixedCommands()) assert.deepEqual(decodeCommand(encodeCommand(c)), c);
});

test('encoding is canonical: field order in the input does not change the bytes', () => {
  const a = encodeCommand({ v: 1, op: 'user.create', id: 'u1', publicKey: key(1), quota: 5 });
  const b = encodeCommand({ quota: 5, publicKey: key(1), id: 'u1', op: 'user.create', v: 1 } as Command);
  assert.deepEqual(a, b);
  assert.equal(new TextDecoder().decode(a), `{"v":1,"op":"user.create","id":"u1","publicKey":"${key(1)}","quota":5}`);
});

test('an unknown op is refused with BAD_COMMAND naming op', () => {
  const r = parseCommandBytes(raw({ v: 1, op: 'user.explode', id: 'x' }));
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.error.code, ErrorCode.BAD_COMMAND);
  assert.equal(!r.ok && r.error.field, 'op');
});

test('a newer command version is refused with UNSUPPORTED, a missing one with BAD_COMMAND', () => {
  const newer = parseCommandBytes(raw({ v: 2, op: 'user.delete', id: 'x' }));
  assert.equal(!newer.ok && newer.error.code, ErrorCode.UNSUPPORTED);
  const missing = parseCommandBytes(raw({ op: 'user.delete', id: 'x' }));
  assert.equal(!missing.ok && missing.error.code, ErrorCode.BAD_COMMAND);
  assert.equal(!missing.ok && missing.error.field, 'v');
});

test('unknown fields, bad values and wrong types are refused naming the field', () => {
  const cases: Array<[unknown, string]> = [
    [{ v: 1, op: 'user.delete', id: 'x', extra: 1 }, 'extra'],
    [{ v: 1, op: 'user.create', id: 'bad id', publicKey: key(1) }, 'id'],
    [{ v: 1, op: 'user.create', id: 'u', publicKey: 'AAAA' }, 'publicKey'],
    [{ v: 1, op: 'user.create', id: 'u', publicKey: key(1), quota: -1 }, 'quota'],
    [{ v: 1, op: 'user.create', id: 'u', publicKey: key(1), allowedRegions: ['US'] }, 'allowedRegions.0'],
    [{ v: 1, op: 'exit.create', id: 'e', region: 'us', publicKey: key(1), url: 'https://x/y' }, 'url'],
    [{ v: 1, op: 'exit.update', id: 'e', weight: 1.5 }, 'weight'],
    [{ v: 1, op: 'usage.add', handlerId: 'h1', sequence: 0, deltas: [{ userId: 'u', up: 1, down: 1 }] }, 'sequence'],
    [{ v: 1, op: 'usage.add', handlerId: 'h1', sequence: 1, deltas: [{ userId: 'u', up: '1', down: 1 }] }, 'deltas.0.up'],
    [{ v: 1, op: 'usage.add', handlerId: 'h1', sequence: 1, deltas: [] }, 'deltas'],
    [{ v: 1, op: 'user.update', id: 'u' }, 'id'],
    [{ v: 1, op: 'settings.update' }, 'op'],
    [{ v: 1, op: 'settings.update', usageReportInterval: 10 }, 'usageReportInterval'],
  ];
  for (const [value, field] of cases) {
    const r = checkCommand(value);
    assert.equal(r.ok, false, JSON.stringify(value));
    assert.equal(!r.ok && r.error.code, ErrorCode.BAD_COMMAND, JSON.stringify(value));
    assert.equal(!r.ok && r.error.field, field, JSON.stringify(value));
  }
});

test('the all-zero key and standard base64 keys are refused', () => {
  const zero = 'A'.repeat(43);
  assert.equal(checkCommand({ v: 1, op: 'key.revoke', publicKey: zero }).ok, false);
  const standard = key(251).replace(/-/g, '+').replace(/_/g, '/');
  assert.notEqual(standard, key(251));
  assert.equal(checkCommand({ v: 1, op: 'key.revoke', publicKey: standard }).ok, false);
});

test('bytes that are not UTF-8 JSON objects are refused with BAD_COMMAND', () => {
  for (const bytes of [new Uint8Array([0xff, 0xfe]), raw('text'), raw([1, 2]), new TextEncoder().encode('{"v":1,')]) {
    const r = parseCommandBytes(bytes);
    assert.equal(!r.ok && r.error.code, ErrorCode.BAD_COMMAND);
  }
});

test('a command larger than maxCommandBytes is refused before parsing', () => {
  const r = parseCommandBytes(new Uint8Array(STATE_LIMITS.maxCommandBytes + 1).fill(0x20));
  assert.equal(!r.ok && r.error.code, ErrorCode.BAD_COMMAND);
});

test('decodeCommand and encodeCommand throw coded errors', () => {
  assert.throws(() => decodeCommand(raw({ v: 1, op: 'nope' })), (e) => hasCode(e, ErrorCode.BAD_COMMAND));
  assert.throws(() => encodeCommand({ ...createUser('u', 1), id: '' } as Command), (e) => hasCode(e, ErrorCode.BAD_COMMAND));
});

test('the op list names every command kind', () => {
  assert.deepEqual(COMMAND_OPS, [
    'user.create',
    'user.update',
    'user.delete',
    'exit.create',
    'exit.update',
    'exit.delete',
    'usage.add',
    'usage.reset',
    'key.revoke',
    'key.unrevoke',
    'settings.update',
  ]);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { codedError, ErrorCode, hasCode } from '../../shared/errors.ts';

test('codedError() keeps the built-in class and attaches the stable code', () => {
  const err = codedError(RangeError, ErrorCode.FRAME_TOO_LARGE, 'Frame of 9 bytes exceeds 8');
  assert.ok(err instanceof RangeError);
  assert.equal(err.code, 'APFSDS_ERR_FRAME_TOO_LARGE');
  assert.ok(hasCode(err, ErrorCode.FRAME_TOO_LARGE));
  assert.ok(!hasCode(err, ErrorCode.BAD_FRAME));
  assert.ok(!hasCode(new Error('plain'), ErrorCode.BAD_FRAME));
});

test('codedError() records the cause when given one', () => {
  const cause = new Error('inner');
  const err = codedError(Error, ErrorCode.STORAGE_CORRUPT, 'outer', cause);
  assert.equal(err.cause, cause);
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { uninitializedBytes } from '../../../shared/runtime/uninitialized.ts';

describe('uninitializedBytes()', () => {
  it('returns plain Uint8Arrays of the asked length, each over a store of its own', () => {
    for (const length of [0, 1, 64, 65, 16 * 1024 + 30]) {
      const a = uninitializedBytes(length);
      const b = uninitializedBytes(length);
      assert.equal(Object.getPrototypeOf(a), Uint8Array.prototype);
      assert.equal(a.length, length);
      assert.equal(a.byteOffset, 0);
      assert.equal(a.buffer.byteLength, length);
      assert.notEqual(a.buffer, b.buffer);
    }
  });
});

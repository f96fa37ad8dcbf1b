import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32c, crc32cUpdate } from '../../../../handler/raft/storage/crc32c.ts';

test('crc32c matches the RFC 3720 appendix B.4 and check-value vectors', () => {
  assert.equal(crc32c(new TextEncoder().encode('123456789')), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
  assert.equal(crc32c(new Uint8Array(0)), 0);
});

test('crc32cUpdate over pieces equals crc32c over the whole at every split point', () => {
  const data = Uint8Array.from({ length: 67 }, (_, i) => (i * 151 + 7) & 0xff);
  const whole = crc32c(data);
  for (let split = 0; split <= data.length; split++) {
    assert.equal(crc32cUpdate(crc32c(data, 0, split), data, split), whole, `split at ${split}`);
  }
});

test('crc32c honours start and end within a larger buffer', () => {
  const inner = new TextEncoder().encode('123456789');
  const outer = new Uint8Array(20);
  outer.set(inner, 5);
  assert.equal(crc32c(outer, 5, 14), 0xe3069283);
  assert.equal(crc32c(outer.subarray(5, 14)), 0xe3069283);
});

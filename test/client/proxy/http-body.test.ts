import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBodyTracker } from '../../../client/proxy/http-body.ts';

const enc = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

test('a Content-Length tracker takes exactly that many bytes across chunks', () => {
  const t = createBodyTracker({ kind: 'length', length: 5 });
  assert.deepEqual(t.push(enc('abc')), { used: 3, done: false });
  assert.deepEqual(t.push(enc('defgh')), { used: 2, done: true });
  assert.ok(t.done);
  assert.ok(createBodyTracker({ kind: 'none' }).done);
});

test('a chunked tracker stops right after the final CRLF, byte by byte too', () => {
  const body = '3\r\nabc\r\n0\r\n\r\n';
  const t = createBodyTracker({ kind: 'chunked' });
  assert.deepEqual(t.push(enc(`${body}NEXT`)), { used: body.length, done: true });
  const slow = createBodyTracker({ kind: 'chunked' });
  let used = 0;
  for (const ch of body) {
    const step = slow.push(enc(ch));
    assert.ok('used' in step);
    used += step.used;
  }
  assert.equal(used, body.length);
  assert.ok(slow.done);
});

test('chunk size lines and trailers have limits', () => {
  const long = createBodyTracker({ kind: 'chunked' }, { maxChunkLine: 8 });
  assert.deepEqual(long.push(enc('1;aaaaaaaaaa\r\n')), { error: 'chunk size line is too long' });
  const trailer = createBodyTracker({ kind: 'chunked' }, { maxTrailerBytes: 4 });
  assert.deepEqual(trailer.push(enc('0\r\nX-Long: value\r\n\r\n')), { error: 'trailer section is too large' });
});

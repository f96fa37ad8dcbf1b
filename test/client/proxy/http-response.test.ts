import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeConnectEstablished, encodeHttpError, encodeProxyAuthRequired } from '../../../client/proxy/http-response.ts';

const dec = (b: Uint8Array) => new TextDecoder().decode(b);

test('the CONNECT success reply carries no Content-Length (RFC 9110 section 9.3.6)', () => {
  assert.equal(dec(encodeConnectEstablished()), 'HTTP/1.1 200 Connection established\r\n\r\n');
});

test('error responses have the status line, a counted body and Connection: close', () => {
  for (const [status, reason] of [[400, 'Bad Request'], [403, 'Forbidden'], [502, 'Bad Gateway'], [503, 'Service Unavailable'], [504, 'Gateway Timeout']] as const) {
    const text = dec(encodeHttpError(status));
    const body = `${status} ${reason}\n`;
    assert.equal(
      text,
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
});

test('407 carries a Basic challenge with the realm quoted', () => {
  const text = dec(encodeProxyAuthRequired());
  assert.match(text, /^HTTP\/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="apfsds", charset="UTF-8"\r\n/);
});

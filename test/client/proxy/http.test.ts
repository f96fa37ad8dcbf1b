import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHttpProxyParser, type HttpProxyEvent, type HttpProxyOptions } from '../../../client/proxy/http.ts';
import { TargetType } from '../../../client/proxy/target.ts';
import { ErrorCode } from '../../../shared/errors.ts';

const enc = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const dec = (b: Uint8Array) => String.fromCharCode(...b);

function run(text: string, cuts: number[] = [], options?: HttpProxyOptions): HttpProxyEvent[] {
  const bytes = enc(text);
  const p = createHttpProxyParser(options);
  const events: HttpProxyEvent[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    events.push(...p.push(bytes.slice(at, cut)));
    at = cut;
  }
  return events;
}

/** Joins consecutive body events so results compare equal however the input was split. */
function normalize(events: HttpProxyEvent[]): unknown[] {
  const out: unknown[] = [];
  for (const e of events) {
    const last = out[out.length - 1] as { type: string; data: string } | undefined;
    if (e.type === 'body' && last?.type === 'body') last.data += dec(e.data);
    else if (e.type === 'body') out.push({ type: 'body', data: dec(e.data) });
    else if (e.type === 'request') out.push({ ...e, head: dec(e.head) });
    else if (e.type === 'error') out.push({ ...e, response: dec(e.response) });
    else out.push(e);
  }
  return out;
}

test('CONNECT host:port yields a connect event with the tunnel bytes that followed', () => {
  const [ev] = run('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01');
  assert.ok(ev?.type === 'connect');
  assert.deepEqual(ev.target, { addressType: TargetType.DOMAIN, host: 'example.com', port: 443 });
  assert.equal(dec(ev.rest), '\x16\x03\x01');
  assert.equal(ev.user, null);
});

test('CONNECT accepts [ipv6]:port and IPv4 and refuses a missing port, zones and userinfo', () => {
  const v6 = run('CONNECT [2001:DB8::1]:8443 HTTP/1.1\r\n\r\n')[0];
  assert.ok(v6?.type === 'connect');
  assert.deepEqual(v6.target, { addressType: TargetType.IPV6, host: '2001:db8::1', port: 8443 });
  const v4 = run('CONNECT 10.0.0.1:22 HTTP/1.0\r\n\r\n')[0];
  assert.ok(v4?.type === 'connect' && v4.target.addressType === TargetType.IPV4);
  for (const t of ['example.com', 'example.com:', 'example.com:0', 'example.com:65536', '[fe80::1%25eth0]:443', 'u:p@example.com:443', '2001:db8::1:443', '[::1]443', 'exa mple.com:443']) {
    const [err] = run(`CONNECT ${t} HTTP/1.1\r\n\r\n`);
    assert.ok(err?.type === 'error' && err.status === 400, t);
  }
});

test('the head is found whatever the split, byte by byte included', () => {
  const text = 'CONNECT example.com:443 HTTP/1.1\r\nUser-Agent: x\r\n\r\n';
  const whole = normalize(run(text));
  for (let cut = 1; cut < text.length; cut++) assert.deepEqual(normalize(run(text, [cut])), whole, `cut at ${cut}`);
  assert.deepEqual(normalize(run(text, Array.from({ length: text.length - 1 }, (_, i) => i + 1))), whole);
});

test('bare-LF line endings are accepted (RFC 9112 section 2.2)', () => {
  const [ev] = run('CONNECT example.com:443 HTTP/1.1\nHost: x\n\n');
  assert.equal(ev?.type, 'connect');
});

test('absolute-form GET becomes an origin-form head with Host rebuilt and Connection: close', () => {
  const events = run(
    'GET http://Example.com:8080/a/b?q=1#frag HTTP/1.1\r\n' +
      'Host: evil.example\r\n' +
      'User-Agent: curl/8\r\n' +
      'Proxy-Connection: keep-alive\r\n' +
      'Proxy-Authorization: Basic Zm9vOmJhcg==\r\n' +
      'Keep-Alive: timeout=5\r\n' +
      'TE: trailers\r\n' +
      'Upgrade: websocket\r\n' +
      'Connection: keep-alive, X-Secret\r\n' +
      'X-Secret: 1\r\n' +
      'Accept: */*\r\n\r\n',
  );
  assert.deepEqual(normalize(events), [
    {
      type: 'request',
      target: { addressType: TargetType.DOMAIN, host: 'example.com', port: 8080 },
      user: null,
      method: 'GET',
      framing: 'none',
      head: 'GET /a/b?q=1 HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: curl/8\r\nAccept: */*\r\nConnection: close\r\n\r\n',
    },
    { type: 'end' },
  ]);
});

test('absolute-form defaults: port 80 omitted from Host, empty path becomes /, IPv6 bracketed', () => {
  const a = run('GET http://example.com HTTP/1.0\r\n\r\n')[0];
  assert.ok(a?.type === 'request');
  assert.equal(dec(a.head), 'GET / HTTP/1.0\r\nHost: example.com\r\nConnection: close\r\n\r\n');
  assert.equal(a.target.port, 80);
  const b = run('HEAD http://[::1]:81?x HTTP/1.1\r\n\r\n')[0];
  assert.ok(b?.type === 'request');
  assert.equal(dec(b.head), 'HEAD /?x HTTP/1.1\r\nHost: [::1]:81\r\nConnection: close\r\n\r\n');
});

test('origin-form, https absolute-form and other schemes are refused', () => {
  const origin = run('GET / HTTP/1.1\r\nHost: x\r\n\r\n')[0];
  assert.ok(origin?.type === 'error' && origin.status === 400);
  const tls = run('GET https://example.com/ HTTP/1.1\r\n\r\n')[0];
  assert.ok(tls?.type === 'error' && tls.status === 501 && tls.code === ErrorCode.UNSUPPORTED);
  const user = run('GET http://u:p@example.com/ HTTP/1.1\r\n\r\n')[0];
  assert.ok(user?.type === 'error' && user.status === 400);
});

test('a Content-Length body is forwarded exactly and pipelined bytes are dropped', () => {
  const text = 'POST http://example.com/upload HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET http://other.example/ HTTP/1.1\r\n\r\n';
  const p = createHttpProxyParser();
  const events = normalize(p.push(enc(text)));
  assert.deepEqual(events.slice(1), [{ type: 'body', data: 'hello' }, { type: 'end' }]);
  assert.ok((events[0] as { framing: string }).framing === 'length');
  assert.match((events[0] as { head: string }).head, /\r\nContent-Length: 5\r\n/);
  assert.equal(p.state, 'done');
  assert.equal(p.excessBytes, 'GET http://other.example/ HTTP/1.1\r\n\r\n'.length);
  assert.deepEqual(p.push(enc('more')), []);
  assert.equal(p.excessBytes, 'GET http://other.example/ HTTP/1.1\r\n\r\n'.length + 4);
});

test('a chunked body is forwarded verbatim and its end found whatever the split', () => {
  const body = '5;ext=1\r\nhello\r\n0A\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n';
  const text = `POST http://example.com/ HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n${body}extra`;
  const whole = normalize(run(text));
  assert.deepEqual(whole.slice(1), [{ type: 'body', data: body }, { type: 'end' }]);
  assert.match((whole[0] as { head: string }).head, /\r\nTransfer-Encoding: gzip, chunked\r\n/);
  for (let cut = 1; cut < text.length; cut++) assert.deepEqual(normalize(run(text, [cut])), whole, `cut at ${cut}`);
});

test('request framing that smuggling relies on is refused with 400', () => {
  const cases = [
    'Transfer-Encoding: chunked\r\nContent-Length: 5',
    'Transfer-Encoding: chunked, gzip',
    'Content-Length: 5\r\nContent-Length: 6',
    'Content-Length: 5, 6',
    'Content-Length: -1',
    'Content-Length: 0x10',
    'Connection: Content-Length\r\nContent-Length: 3',
    'Connection: transfer-encoding',
  ];
  for (const fields of cases) {
    const [err] = run(`POST http://example.com/ HTTP/1.1\r\n${fields}\r\n\r\n`);
    assert.ok(err?.type === 'error' && err.status === 400, fields);
  }
  const [old] = run('POST http://example.com/ HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n');
  assert.ok(old?.type === 'error' && old.status === 400);
});

test('a malformed chunked body fails with 400 after the request was reported', () => {
  for (const body of ['zz\r\n', '5\r\nhelloXX', '5\nhello\r\n', '5\r\nhello\r\n0\r\nbad trailer\r\n\r\n', 'fffffffffffffff\r\n']) {
    const events = run(`POST http://example.com/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n${body}`);
    const last = events[events.length - 1];
    assert.ok(last?.type === 'error' && last.status === 400 && last.code === ErrorCode.PROTOCOL, JSON.stringify(body));
  }
});

test('malformed heads are refused: folding, space before colon, bare CR, bad version, bad line', () => {
  const cases: Array<[string, number]> = [
    ['GET http://a.example/ HTTP/1.1\r\nX: 1\r\n  folded\r\n\r\n', 400],
    ['GET http://a.example/ HTTP/1.1\r\nX : 1\r\n\r\n', 400],
    ['GET http://a.example/ HTTP/1.1\r\nX: a\rb\r\n\r\n', 400],
    ['GET http://a.example/ HTTP/1.1\r\nX: a\x00b\r\n\r\n', 400],
    ['GET http://a.example/ HTTP/2.0\r\n\r\n', 505],
    ['GET http://a.example/ HTTP/1.1 extra\r\n\r\n', 400],
    ['GET  http://a.example/ HTTP/1.1\r\n\r\n', 400],
    ['G(T http://a.example/ HTTP/1.1\r\n\r\n', 400],
    ['GET http://a.example/ HTTP/1.1\r\n: novalue\r\n\r\n', 400],
  ];
  for (const [text, status] of cases) {
    const [err] = run(text);
    assert.ok(err?.type === 'error' && err.status === status, JSON.stringify(text));
    assert.match(dec(err.response), new RegExp(`^HTTP/1.1 ${status} `));
  }
});

test('a head over the limit is refused with 431 before the terminator arrives', () => {
  const p = createHttpProxyParser({ maxHeadBytes: 256 });
  assert.deepEqual(p.push(enc('GET http://a.example/ HTTP/1.1\r\n')), []);
  const [err] = p.push(enc(`X-Pad: ${'a'.repeat(300)}\r\n`));
  assert.ok(err?.type === 'error' && err.status === 431 && err.code === ErrorCode.BUFFER_LIMIT);
  const many = `GET http://a.example/ HTTP/1.1\r\n${'A: b\r\n'.repeat(5)}\r\n`;
  const [tooMany] = run(many, [], { maxHeaders: 4 });
  assert.ok(tooMany?.type === 'error' && tooMany.status === 431);
});

const users = [{ username: 'alice', password: 'pä:ss' }];
const basic = (u: string, p: string) => btoa(String.fromCharCode(...new TextEncoder().encode(`${u}:${p}`)));

test('with users configured, missing or wrong Proxy-Authorization gets 407 with a Basic challenge', () => {
  for (const auth of ['', `Proxy-Authorization: Basic ${basic('alice', 'wrong')}\r\n`, 'Proxy-Authorization: Bearer abc\r\n', 'Proxy-Authorization: Basic !!!\r\n']) {
    const [err] = run(`CONNECT example.com:443 HTTP/1.1\r\n${auth}\r\n`, [], { users, realm: 'r"x' });
    assert.ok(err?.type === 'error' && err.status === 407 && err.code === ErrorCode.AUTH_FAILED, auth);
    const resp = dec(err.response);
    assert.match(resp, /^HTTP\/1.1 407 Proxy Authentication Required\r\n/);
    assert.match(resp, /\r\nProxy-Authenticate: Basic realm="r\\"x", charset="UTF-8"\r\n/);
    assert.match(resp, /\r\nConnection: close\r\n/);
  }
});

test('right Basic credentials (UTF-8, colon in password) pass and are stripped upstream', () => {
  const [c] = run(`CONNECT example.com:443 HTTP/1.1\r\nProxy-Authorization: basic ${basic('alice', 'pä:ss')}\r\n\r\n`, [], { users });
  assert.ok(c?.type === 'connect' && c.user === 'alice');
  const [r] = run(`GET http://example.com/ HTTP/1.1\r\nProxy-Authorization: Basic ${basic('alice', 'pä:ss')}\r\n\r\n`, [], { users });
  assert.ok(r?.type === 'request' && r.user === 'alice');
  assert.doesNotMatch(dec(r.head), /Proxy-Authorization/i);
});

test('pushing after CONNECT reports CLOSED; a bad maxHeadBytes is BAD_CONFIG', () => {
  const p = createHttpProxyParser();
  p.push(enc('CONNECT a.example:1 HTTP/1.1\r\n\r\n'));
  const [err] = p.push(enc('x'));
  assert.ok(err?.type === 'error' && err.code === ErrorCode.CLOSED);
  assert.throws(() => createHttpProxyParser({ maxHeadBytes: 1 }), (e: Error & { code?: string }) => e.code === ErrorCode.BAD_CONFIG);
});

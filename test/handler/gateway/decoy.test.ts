import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinDecoy, proxyDecoy, staticDecoy } from '../../../handler/decoy/index.ts';
import { startHandler, type RunningHandler } from '../../../handler/main.ts';
import { serve } from '../../../shared/runtime/http-server.ts';
import { handlerConfig, LINKS_PATH, quietLogger, rawConnect, SECRET_PATH, upgradeRequest, within } from './harness.ts';

/** Sends one request on a fresh connection and returns the whole response as text, Date removed. */
async function exchange(port: number, request: string): Promise<string> {
  const raw = await rawConnect(port);
  raw.socket.write(request);
  await raw.waitFor('\r\n\r\n', 5000);
  const headText = (): string => raw.received().toString('latin1');
  const length = Number(/\r\ncontent-length: *(\d+)/i.exec(headText())?.[1] ?? '0');
  await within(
    (async () => {
      for (;;) {
        const all = raw.received();
        if (all.length - (all.indexOf('\r\n\r\n') + 4) >= length) return;
        await new Promise((r) => setTimeout(r, 5));
      }
    })(),
    5000,
    'response body',
  );
  raw.socket.destroy();
  return headText().replace(/\r\ndate: [^\r]*/i, '');
}

const plain = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\n\r\n`;

describe('decoy answers on the public listener', () => {
  let handler: RunningHandler;

  before(async () => {
    handler = await startHandler(handlerConfig(), { logger: quietLogger });
  });

  after(async () => {
    await handler.close();
  });

  it('serves the home page, and an upgrade request on / gets the same bytes as the plain GET', async () => {
    const page = await exchange(handler.port, plain('/'));
    assert.match(page, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(page, /Halden &amp; Moss/);
    assert.equal(await exchange(handler.port, upgradeRequest('/')), page);
  });

  it('answers a plain GET on the secret paths exactly like any unknown path', async () => {
    const unknown = await exchange(handler.port, plain('/no-such-page-4821'));
    assert.match(unknown, /^HTTP\/1\.1 404 Not Found\r\n/);
    assert.equal(await exchange(handler.port, plain(SECRET_PATH)), unknown);
    assert.equal(await exchange(handler.port, plain(LINKS_PATH)), unknown);
  });

  it('answers an upgrade on a wrong path, or a malformed one on the secret path, like the plain GET', async () => {
    assert.equal(await exchange(handler.port, upgradeRequest('/wrong/path')), await exchange(handler.port, plain('/wrong/path')));
    const badVersion = upgradeRequest(SECRET_PATH).replace('Sec-WebSocket-Version: 13', 'Sec-WebSocket-Version: 8');
    assert.equal(await exchange(handler.port, badVersion), await exchange(handler.port, plain(SECRET_PATH)));
  });
});

describe('built-in decoy site', () => {
  const get = (path: string, method = 'GET') => builtinDecoy(new Request(`http://example.test${path}`, { method }));
  const names = (r: Response): string[] => [...r.headers.keys()].sort();

  it('has pages, a stylesheet and robots.txt, and the same header names on pages and 404s', async () => {
    for (const path of ['/', '/about', '/work/', '/journal', '/contact', '/style.css', '/robots.txt']) {
      assert.equal(get(path).status, 200, path);
    }
    const missing = get('/wp-login.php');
    assert.equal(missing.status, 404);
    assert.deepEqual(names(missing), names(get('/')));
    assert.doesNotMatch(await missing.text(), /wp-login/);
  });

  it('answers HEAD with the GET headers and no body, and other methods with 405', async () => {
    const head = get('/about', 'HEAD');
    assert.equal(head.headers.get('content-length'), get('/about').headers.get('content-length'));
    assert.equal(await head.text(), '');
    const post = get('/', 'POST');
    assert.equal(post.status, 405);
    assert.deepEqual(names(post), names(get('/')));
  });
});

describe('static-directory decoy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'apfsds-decoy-'));
  mkdirSync(join(dir, 'sub'));
  mkdirSync(join(dir, '.git'));
  writeFileSync(join(dir, 'index.html'), '<h1>home</h1>');
  writeFileSync(join(dir, 'about.html'), '<h1>about</h1>');
  writeFileSync(join(dir, 'sub', 'index.html'), '<h1>sub</h1>');
  writeFileSync(join(dir, 'app.css'), 'body{}');
  writeFileSync(join(dir, '.git', 'config'), 'secret');
  const site = staticDecoy(dir);
  const get = async (path: string) => site(new Request(`http://example.test${path}`));

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('serves files, directory indexes and extensionless pages with their media types', async () => {
    assert.equal(await (await get('/')).text(), '<h1>home</h1>');
    assert.equal(await (await get('/about')).text(), '<h1>about</h1>');
    assert.equal(await (await get('/sub/')).text(), '<h1>sub</h1>');
    assert.equal(await (await get('/sub')).text(), '<h1>sub</h1>');
    assert.equal((await get('/app.css')).headers.get('content-type'), 'text/css; charset=utf-8');
  });

  it('refuses hidden files and traversal with the ordinary 404', async () => {
    const missing = await get('/nope');
    assert.equal(missing.status, 404);
    const body = await missing.text();
    for (const path of ['/.git/config', '/%2e%2e/etc/passwd', '/sub/..%2F..%2Fetc%2Fpasswd', '/a%00b']) {
      const r = await get(path);
      assert.equal(r.status, 404, path);
      assert.equal(await r.text(), body, path);
    }
  });
});

describe('reverse-proxy decoy', () => {
  it('forwards path and query without hop-by-hop or WebSocket fields, and answers 502 when the upstream is gone', async () => {
    const seen: Array<{ path: string; upgrade: string | null; key: string | null }> = [];
    const upstream = await serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: (req) => {
        const url = new URL(req.url);
        seen.push({ path: url.pathname + url.search, upgrade: req.headers.get('upgrade'), key: req.headers.get('sec-websocket-key') });
        return new Response('upstream page', { status: 200, headers: { 'content-type': 'text/plain', 'x-site': 'real' } });
      },
    });
    const site = proxyDecoy(`http://127.0.0.1:${upstream.port}/base`);
    const res = await site(
      new Request('http://example.test/x/y?q=1', { headers: { upgrade: 'websocket', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' } }),
    );
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-site'), 'real');
    assert.equal(await res.text(), 'upstream page');
    assert.deepEqual(seen, [{ path: '/base/x/y?q=1', upgrade: null, key: null }]);
    await upstream.close({ graceMs: 0 });
    const down = await site(new Request('http://example.test/'));
    assert.equal(down.status, 502);
  });
});

/**
 * The destination every end-to-end transfer reaches: an HTTP/1.1 server on 127.0.0.1 in the
 * test process.
 *   GET  /bytes/N?seed=S        N deterministic bytes (content.ts), written with backpressure
 *   GET  /hold/ID/N?seed=S      the first half, then waits for release(ID) (or release()),
 *                               then the rest: streams that stay open as long as a test needs
 *   POST /sink                  hashes the upload; answers {"bytes":n,"sha256":"..."}
 * It counts requests and keeps the remote port of each, so tests can tell streams apart.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { BLOCK, contentBlock } from './content.ts';
import { deferred, waitUntil, type Deferred } from './wait.ts';

/** Longest a /hold stream waits for its release before it finishes on its own. */
const HOLD_LIMIT_MS = 180_000;

/** A running origin. */
export interface Origin {
  readonly port: number;
  /** `http://127.0.0.1:port` + path. */
  url(path: string): string;
  /** Requests served so far (any route). */
  readonly requests: number;
  /** Hold streams currently waiting for release. */
  readonly holding: number;
  /** Waits until `n` hold streams wait at once. */
  waitHolding(n: number, timeoutMs: number): Promise<void>;
  /** Lets hold stream `id` (or every one waiting now) finish. */
  release(id?: string): void;
  close(): Promise<void>;
}

function parseSeed(url: URL): number {
  const s = Number(url.searchParams.get('seed') ?? '1');
  return Number.isSafeInteger(s) ? s : 1;
}

async function writeBody(res: http.ServerResponse, size: number, seed: number, from: number, to: number, closed: () => boolean): Promise<void> {
  // Blocks are generated one at a time and the next waits for 'drain': the origin itself never
  // buffers more than a socket's worth, so memory seen elsewhere is the tunnel's.
  let offset = from;
  while (offset < to && !closed()) {
    const index = Math.floor(offset / BLOCK);
    const blockStart = index * BLOCK;
    const block = contentBlock(seed, index, Math.min(BLOCK, size - blockStart));
    const end = Math.min(to - blockStart, block.length);
    const chunk = block.subarray(offset - blockStart, end);
    offset = blockStart + end;
    if (!res.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
  }
}

/** Starts an origin on 127.0.0.1 with an ephemeral port. */
export async function startOrigin(): Promise<Origin> {
  const sockets = new Set<Socket>();
  const holds = new Map<string, Deferred<void>>();
  let requests = 0;
  let closing = false;

  const server = http.createServer((req, res) => {
    requests++;
    const url = new URL(req.url ?? '/', 'http://origin');
    const parts = url.pathname.split('/').filter((p) => p !== '');
    let closed = false;
    res.on('close', () => {
      closed = true;
    });
    const fail = (status: number, text: string): void => {
      res.writeHead(status, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };
    if (req.method === 'GET' && parts[0] === 'bytes' && parts.length === 2) {
      const size = Number(parts[1]);
      if (!Number.isSafeInteger(size) || size < 0) return fail(400, 'bad size\n');
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
      void writeBody(res, size, parseSeed(url), 0, size, () => closed).then(() => res.end());
      return;
    }
    if (req.method === 'GET' && parts[0] === 'hold' && parts.length === 3) {
      const id = parts[1]!;
      const size = Number(parts[2]);
      if (!Number.isSafeInteger(size) || size < 2) return fail(400, 'bad size\n');
      const seed = parseSeed(url);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
      const half = Math.floor(size / 2);
      void (async () => {
        await writeBody(res, size, seed, 0, half, () => closed);
        if (!closing) {
          const gate = deferred();
          holds.set(id, gate);
          const timer = setTimeout(() => gate.resolve(), HOLD_LIMIT_MS);
          res.once('close', () => gate.resolve());
          await gate.promise;
          clearTimeout(timer);
          holds.delete(id);
        }
        await writeBody(res, size, seed, half, size, () => closed);
        res.end();
      })();
      return;
    }
    if (req.method === 'POST' && parts[0] === 'sink' && parts.length === 1) {
      const hash = createHash('sha256');
      let bytes = 0;
      req.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        hash.update(chunk);
      });
      req.on('end', () => {
        const text = `${JSON.stringify({ bytes, sha256: hash.digest('hex') })}\n`;
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
        res.end(text);
      });
      return;
    }
    fail(404, 'not found\n');
  });
  server.keepAliveTimeout = 1_000;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    port,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    get requests() {
      return requests;
    },
    get holding() {
      return holds.size;
    },
    waitHolding: (n, timeoutMs) =>
      waitUntil(() => holds.size >= n, { timeoutMs, intervalMs: 50, what: `${n} held origin streams (have ${holds.size})` }).then(() => undefined),
    release(id) {
      if (id === undefined) {
        for (const gate of holds.values()) gate.resolve();
        return;
      }
      holds.get(id)?.resolve();
    },
    async close() {
      closing = true;
      for (const gate of holds.values()) gate.resolve();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

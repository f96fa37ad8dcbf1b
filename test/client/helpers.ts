/**
 * Helpers for the client tests: users and client configs, a captured logger, a local HTTP
 * origin, curl, and a raw SOCKS5 client that reports the exact reply byte.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { ClientConfigSchema, type ClientConfig } from '../../shared/config/client.ts';
import { encodeBase64Url } from '../../shared/config/base64url.ts';
import { derivePublicKey, generatePrivateKey } from '../../shared/crypto/keys.ts';
import { createLogger } from '../../shared/log.ts';
import { within } from '../shared/runtime/fixtures.ts';

export { within, deferred } from '../shared/runtime/fixtures.ts';

/** A user key pair. */
export interface TestUser {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

/** A fresh user key pair. */
export function makeUser(): TestUser {
  const privateKey = generatePrivateKey();
  return { privateKey, publicKey: derivePublicKey(privateKey) };
}

/** Fast timings for tests (schema minimums are for operators, not for loopback tests). */
export const FAST = {
  handshakeTimeout: 3000,
  openTimeout: 3000,
  keepalive: { interval: 300, timeout: 400 },
  reconnect: { min: 20, max: 200, jitter: 0.5 },
} as const;

/** A validated client config listening on 127.0.0.1:0, with fast timings and `extra` merged in. */
export function clientConfig(
  handlers: string[],
  clusterPublicKey: Uint8Array,
  user: TestUser,
  extra: Record<string, unknown> = {},
  timings: Partial<Pick<ClientConfig, 'handshakeTimeout' | 'openTimeout' | 'keepalive' | 'reconnect'>> = {},
): ClientConfig {
  const parsed = ClientConfigSchema.parse({
    listen: { host: '127.0.0.1', port: 0 },
    handlers,
    clusterPublicKey: encodeBase64Url(clusterPublicKey),
    key: { privateKey: encodeBase64Url(user.privateKey) },
    poolSize: 1,
    ...extra,
  });
  return { ...parsed, ...FAST, ...timings };
}

/** A logger whose JSON lines are kept in memory. */
export interface CapturedLog {
  logger: Logger;
  lines: Array<Record<string, unknown>>;
  /** Resolves once a line satisfies `match` (bounded). */
  waitFor(match: (line: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
}

/** A debug-level JSON logger into memory. */
export function captureLog(role = 'client'): CapturedLog {
  const lines: Array<Record<string, unknown>> = [];
  const watchers = new Set<() => void>();
  const logger = createLogger({
    role,
    level: 'debug',
    format: 'json',
    env: {},
    destination: {
      write(line: string) {
        for (const l of line.split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
        for (const w of [...watchers]) w();
      },
    },
  });
  return {
    logger,
    lines,
    waitFor(match, ms = 10_000) {
      return within(
        new Promise((resolve) => {
          const check = (): void => {
            const found = lines.find(match);
            if (found !== undefined) {
              watchers.delete(check);
              resolve(found);
            }
          };
          watchers.add(check);
          check();
        }),
        ms,
        'log line',
      );
    },
  };
}

/** A local HTTP origin answering "hello <method> <path>" (and echoing POST bodies). */
export interface Origin {
  port: number;
  close(): Promise<void>;
}

/** Starts an HTTP origin on `host` (127.0.0.1 or ::1), port 0. */
export async function startOrigin(host = '127.0.0.1'): Promise<Origin> {
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts).toString();
      res.setHeader('content-type', 'text/plain');
      res.end(`hello ${req.method} ${req.url} host=${req.headers.host}${body === '' ? '' : ` body=${body}`}\n`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** What a curl run printed. */
export interface CurlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs curl with a hard time limit (no retries, no config files). */
export function curl(args: string[], ms = 20_000): Promise<CurlResult> {
  const proc = spawn('curl', ['-q', '-sS', '--max-time', String(Math.ceil(ms / 1000)), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return within(
    new Promise<CurlResult>((resolve) => proc.once('close', (code) => resolve({ code, stdout, stderr }))),
    ms + 5000,
    `curl ${args.join(' ')}`,
  ).finally(() => proc.kill('SIGKILL'));
}

/** A raw socket that collects bytes and waits for a count. */
export class RawSocket {
  readonly socket: net.Socket;
  #buf = Buffer.alloc(0);
  #watch: (() => void) | null = null;
  closed = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (c: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, c]);
      this.#watch?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.#watch?.();
    });
    socket.on('error', () => {});
  }

  /** Connects to 127.0.0.1:port. */
  static async connect(port: number): Promise<RawSocket> {
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    await within(new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    }), 5000, 'raw connect');
    return new RawSocket(socket);
  }

  /** Takes exactly `n` bytes (or everything received when the peer closes first). */
  read(n: number, ms = 10_000): Promise<Buffer> {
    return within(
      new Promise<Buffer>((resolve) => {
        const check = (): void => {
          if (this.#buf.length >= n || this.closed) {
            this.#watch = null;
            const out = this.#buf.subarray(0, n);
            this.#buf = this.#buf.subarray(out.length);
            resolve(out);
          }
        };
        this.#watch = check;
        check();
      }),
      ms,
      `${n} bytes`,
    );
  }

  /** Everything until the peer closes. */
  async readAll(ms = 10_000): Promise<Buffer> {
    await within(new Promise<void>((resolve) => {
      const check = (): void => {
        if (this.closed) resolve();
      };
      this.#watch = check;
      this.socket.end();
      check();
    }), ms, 'peer close');
    return this.#buf;
  }

  write(data: Uint8Array | string): void {
    this.socket.write(data);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A SOCKS5 CONNECT request to a domain name (RFC 1928 section 4). */
export function socks5ConnectDomain(host: string, port: number): Buffer {
  const name = Buffer.from(host);
  return Buffer.concat([Buffer.from([5, 1, 0, 3, name.length]), name, Buffer.from([port >> 8, port & 0xff])]);
}

/** Runs a no-auth SOCKS5 CONNECT to a domain and returns the REP byte of the reply. */
export async function socks5Reply(proxyPort: number, host: string, port: number): Promise<number> {
  const s = await RawSocket.connect(proxyPort);
  try {
    s.write(Buffer.from([5, 1, 0]));
    const method = await s.read(2);
    if (method[1] !== 0) throw new Error(`method ${method[1]}`);
    s.write(socks5ConnectDomain(host, port));
    const reply = await s.read(10);
    return reply[1] as number;
  } finally {
    s.destroy();
  }
}

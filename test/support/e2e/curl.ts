/**
 * Real curl through the local proxy: `-x socks5h://` (names resolved at the exit), `-x http://`
 * with `--proxytunnel` (CONNECT) or without it (plain forwarding). The body is hashed as it
 * streams out of curl's stdout, so 100 MiB never sits in memory; every run has --max-time.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { roleEnv } from './role-process.ts';
import { contentBlock, BLOCK } from './content.ts';
import { within } from './wait.ts';

/** How curl talks to the proxy. */
export type ProxyMode = 'socks5h' | 'socks5' | 'http-connect' | 'http-plain';

/** Options of curl(). */
export interface CurlOptions {
  /** The local proxy's port on 127.0.0.1. */
  proxyPort: number;
  mode: ProxyMode;
  url: string;
  /** curl --max-time in seconds (the process is also killed a little after it). */
  maxTimeSec: number;
  /** Upload a deterministic body (content.ts) as a POST. */
  upload?: { size: number; seed: number };
  /** Adds -v (proxy replies appear in `stderr`). */
  verbose?: boolean;
  /** More curl arguments. */
  extra?: string[];
}

/** What one curl run produced. */
export interface CurlResult {
  /** curl's exit code (0 ok, 97 proxy handshake error, 28 timeout, ...). */
  exitCode: number | null;
  bytes: number;
  sha256: string;
  /** The HTTP status (0 when there was none). */
  httpCode: number;
  /** The proxy's answer to CONNECT (0 when there was none). */
  connectCode: number;
  /**
   * The SOCKS5 reply code curl reported in its error message ("Can't complete SOCKS5
   * connection to ... (2)"), undefined when it reported none.
   */
  socksReply: number | undefined;
  stderr: string;
  /** The body when it is small (<= 64 KiB), for error bodies. */
  smallBody: string;
}

const MARK = '\nAPFSDS_CURL ';
const probe = spawnSync('curl', ['--version'], { encoding: 'utf8' });

/** The `skip` option for tests that need curl. */
export const SKIP_WITHOUT_CURL: string | false =
  probe.error === undefined && probe.status === 0 ? false : 'curl is not installed; the end-to-end tests drive it';

function proxyArgs(o: CurlOptions): string[] {
  switch (o.mode) {
    case 'socks5h':
      return ['-x', `socks5h://127.0.0.1:${o.proxyPort}`];
    case 'socks5':
      return ['-x', `socks5://127.0.0.1:${o.proxyPort}`];
    case 'http-connect':
      return ['-x', `http://127.0.0.1:${o.proxyPort}`, '--proxytunnel'];
    case 'http-plain':
      return ['-x', `http://127.0.0.1:${o.proxyPort}`];
  }
}

/** Runs curl once and hashes what it writes. */
export async function curl(o: CurlOptions): Promise<CurlResult> {
  const args = [
    '-q', '-sS', '--max-time', String(o.maxTimeSec), '--connect-timeout', String(Math.min(o.maxTimeSec, 20)),
    ...proxyArgs(o),
    '-o', '-',
    '-w', `%{stderr}${MARK}%{http_code} %{http_connect}\n`,
    ...(o.verbose ? ['-v'] : []),
    ...(o.upload ? ['--data-binary', '@-', '-H', 'content-type: application/octet-stream'] : []),
    ...(o.extra ?? []),
    o.url,
  ];
  const child = spawn('curl', args, { env: roleEnv(), stdio: [o.upload ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  const hash = createHash('sha256');
  let bytes = 0;
  const small: Buffer[] = [];
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    hash.update(chunk);
    if (bytes <= 65_536) small.push(chunk);
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => {
    if (stderr.length < 200_000) stderr += s;
  });
  if (o.upload) void feed(child.stdin!, o.upload.size, o.upload.seed);
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  let exitCode: number | null;
  try {
    exitCode = await within(exited, o.maxTimeSec * 1000 + 10_000, `curl ${o.mode} ${o.url}`);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const at = stderr.lastIndexOf(MARK);
  const [code = '0', connect = '0'] = at >= 0 ? stderr.slice(at + MARK.length).trim().split(/\s+/) : [];
  return {
    exitCode,
    bytes,
    sha256: hash.digest('hex'),
    httpCode: Number(code) || 0,
    connectCode: Number(connect) || 0,
    socksReply: socksReplyIn(stderr),
    stderr: at >= 0 ? stderr.slice(0, at) : stderr,
    smallBody: Buffer.concat(small).toString('utf8'),
  };
}

async function feed(stdin: NodeJS.WritableStream, size: number, seed: number): Promise<void> {
  stdin.on('error', () => {});
  const blocks = Math.ceil(size / BLOCK);
  for (let i = 0; i < blocks; i++) {
    const chunk = contentBlock(seed, i, Math.min(BLOCK, size - i * BLOCK));
    if (!stdin.write(chunk)) await new Promise<void>((resolve) => stdin.once('drain', () => resolve()));
  }
  stdin.end();
}

/** The SOCKS5 REP code in curl's error text, e.g. "SOCKS5 connection to 127.0.0.1. (2)". */
export function socksReplyIn(stderr: string): number | undefined {
  const m = /SOCKS5[^\n]*?\((\d+)\)/.exec(stderr);
  return m === null ? undefined : Number(m[1]);
}

/** A one-line description of a curl result for assertion messages. */
export function describeCurl(r: CurlResult): string {
  return `curl exit ${r.exitCode}, HTTP ${r.httpCode}, CONNECT ${r.connectCode}, ${r.bytes} bytes, SOCKS5 reply ${r.socksReply ?? "none"}, stderr: ${r.stderr.trim().slice(-800)}`;
}

/**
 * Leaf schemas shared by every role's config: ports, hosts, ids, regions, durations, sizes,
 * URLs, secret paths and CIDRs. Each one says in its error what it expected, because the
 * config loader prints these messages next to the field path.
 */
import { z } from 'zod';

/** A TCP port to listen on; 0 asks the OS for a free one (tests). */
export const listenPort = () =>
  z.number({ error: 'expected a port number 0-65535' }).int('expected a whole port number').min(0).max(65535);

/** A host name or IP address to bind or dial. */
export const host = () =>
  z
    .string({ error: 'expected a host name or IP address' })
    .regex(/^[A-Za-z0-9.:%_\-[\]]{1,253}$/, 'expected a host name or IP address such as 127.0.0.1, :: or example.com');

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** A node, user or exit id: letters, digits, '.', '_' and '-', at most 64 characters. */
export const id = (what = 'id') =>
  z.string({ error: `expected ${what} as a string` }).regex(ID, `expected ${what} of letters, digits, '.', '_' or '-' (1-64 characters)`);

/** A region name such as "us", "eu" or "asia"; compared case-insensitively (stored lower-case). */
export const region = () =>
  z
    .string({ error: 'expected a region name such as "us"' })
    .regex(ID, 'expected a region name of letters, digits, ".", "_" or "-"')
    .transform((r) => r.toLowerCase());

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/;
const DURATION_UNIT: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration: integer milliseconds, or a string like "500ms", "10s", "5m", "1h". Output: ms. */
export const duration = (min = 0, max = 7 * 86_400_000) =>
  z
    .union([z.number(), z.string()], { error: 'expected a duration such as 10s, 500ms or 5m (or milliseconds)' })
    .transform((v, ctx) => {
      let ms: number;
      if (typeof v === 'number') ms = v;
      else {
        const m = DURATION.exec(v.trim());
        if (m === null) {
          ctx.addIssue({ code: 'custom', message: 'expected a duration such as 10s, 500ms or 5m (or milliseconds)' });
          return z.NEVER;
        }
        ms = Number(m[1]) * DURATION_UNIT[m[2] ?? 'ms']!;
      }
      if (!Number.isFinite(ms) || Math.round(ms) < min || ms > max) {
        ctx.addIssue({ code: 'custom', message: `expected a duration from ${fmtMs(min)} to ${fmtMs(max)}` });
        return z.NEVER;
      }
      return Math.round(ms);
    });

function fmtMs(ms: number): string {
  if (ms % 86_400_000 === 0 && ms > 0) return `${ms / 86_400_000}d`;
  if (ms % 1000 === 0 && ms > 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

const SIZE = /^(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?$/i;
const SIZE_UNIT: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** A byte count: an integer, or a string like "16KiB", "10MB", "1GiB". Output: bytes. */
export const size = (min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z
    .union([z.number(), z.string()], { error: 'expected a size such as 16KiB, 10MB or a number of bytes' })
    .transform((v, ctx) => {
      let bytes: number;
      if (typeof v === 'number') bytes = v;
      else {
        const m = SIZE.exec(v.trim());
        if (m === null) {
          ctx.addIssue({ code: 'custom', message: 'expected a size such as 16KiB, 10MB or a number of bytes' });
          return z.NEVER;
        }
        bytes = Number(m[1]) * SIZE_UNIT[(m[2] ?? 'b').toLowerCase()]!;
      }
      if (!Number.isFinite(bytes) || Math.round(bytes) < min || bytes > max) {
        ctx.addIssue({ code: 'custom', message: `expected a size from ${min} to ${max} bytes` });
        return z.NEVER;
      }
      return Math.round(bytes);
    });

/** A positive whole number with bounds (counts, ticks). */
export const count = (min: number, max: number) =>
  z
    .number({ error: `expected a whole number from ${min} to ${max}` })
    .int(`expected a whole number from ${min} to ${max}`)
    .min(min, `expected a whole number from ${min} to ${max}`)
    .max(max, `expected a whole number from ${min} to ${max}`);

function urlWith(protocols: string[], what: string, needPath: boolean) {
  const expected = `expected ${what} URL (${protocols.map((p) => `${p}://`).join(' or ')})`;
  return z.string({ error: expected }).superRefine((v, ctx) => {
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      ctx.addIssue({ code: 'custom', message: expected });
      return;
    }
    if (!protocols.includes(u.protocol.slice(0, -1)) || u.hostname === '') {
      ctx.addIssue({ code: 'custom', message: expected });
    } else if (needPath && (u.pathname === '/' || u.pathname === '')) {
      ctx.addIssue({ code: 'custom', message: `${expected} that includes the secret path, e.g. wss://host/your-path` });
    } else if (u.username !== '' || u.password !== '') {
      ctx.addIssue({ code: 'custom', message: `${expected} without user:password@` });
    }
  });
}

/** A WebSocket URL (ws:// or wss://) that names the secret path. */
export const wsUrl = (what = 'a WebSocket') => urlWith(['ws', 'wss'], what, true);
/** A WebSocket URL where the path is optional (raft peers). */
export const wsUrlAnyPath = (what = 'a WebSocket') => urlWith(['ws', 'wss'], what, false);
/** An http:// or https:// URL. */
export const httpUrl = (what = 'an HTTP') => urlWith(['http', 'https'], what, false);

/** A secret URL path: starts with '/', is not '/' alone, no '..' or '//' and URL-safe. */
export const secretPath = () =>
  z
    .string({ error: "expected a path starting with '/'" })
    .regex(/^\//, "expected a path starting with '/'")
    .refine((p) => p !== '/', "expected a secret path such as /k3v9x-tunnel, not '/' (that is where the decoy lives)")
    .refine((p) => !p.includes('//') && !p.split('/').includes('..'), "expected a path without '//' or '..'")
    .refine((p) => /^[A-Za-z0-9._~!$&'()*+,;=:@%/-]{2,256}$/.test(p), 'expected URL-safe path characters');

/** An HTTP path such as "/metrics". */
export const httpPath = () =>
  z.string({ error: "expected a path starting with '/'" }).regex(/^\/[A-Za-z0-9._~/-]*$/, "expected a path starting with '/'");

const IPV4 = z.ipv4();
const IPV6 = z.ipv6();
const CIDR_HINT = 'expected an IPv4 or IPv6 CIDR such as 10.0.0.0/8, 127.0.0.1/32 or fd00::/8';

/** Parses "addr/prefix" or a bare address; returns the normalised CIDR or undefined. */
export function normaliseCidr(v: string): string | undefined {
  const slash = v.indexOf('/');
  const addr = (slash < 0 ? v : v.slice(0, slash)).trim();
  const prefixText = slash < 0 ? undefined : v.slice(slash + 1).trim();
  const isV4 = IPV4.safeParse(addr).success;
  const isV6 = !isV4 && IPV6.safeParse(addr).success;
  if (!isV4 && !isV6) return undefined;
  const maxPrefix = isV4 ? 32 : 128;
  const prefix = prefixText === undefined ? maxPrefix : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : -1;
  if (prefix < 0 || prefix > maxPrefix) return undefined;
  return `${isV6 ? addr.toLowerCase() : addr}/${prefix}`;
}

/** An IPv4/IPv6 CIDR; a bare address means one host (/32 or /128). Output: "addr/prefix". */
export const cidr = () =>
  z.string({ error: CIDR_HINT }).transform((v, ctx) => {
    const out = normaliseCidr(v);
    if (out === undefined) {
      ctx.addIssue({ code: 'custom', message: CIDR_HINT });
      return z.NEVER;
    }
    return out;
  });

/** A DNS server: an IP address with an optional port ("1.1.1.1", "1.1.1.1:53", "[2606:4700::1]:53"). */
export const dnsServer = () =>
  z.string({ error: 'expected a DNS server address such as 1.1.1.1 or [2606:4700::1]:53' }).refine((v) => {
    const m = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(v) ?? /^([^:]+)(?::(\d{1,5}))?$/.exec(v);
    const addr = m?.[1] ?? v;
    const port = m?.[2] === undefined ? 53 : Number(m[2]);
    return (IPV4.safeParse(addr).success || IPV6.safeParse(addr).success) && port >= 1 && port <= 65535;
  }, 'expected a DNS server address such as 1.1.1.1 or [2606:4700::1]:53');

/** A file system path. */
export const filePath = (what = 'a file path') =>
  z.string({ error: `expected ${what}` }).min(1, `expected ${what}, got an empty string`);

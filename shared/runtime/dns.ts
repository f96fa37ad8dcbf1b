import { lookup, Resolver } from 'node:dns/promises';
import net from 'node:net';
import { codedError, ErrorCode } from '../errors.ts';
import { armDeadline, type DeadlineOptions } from './deadline.ts';

/** Default budget for one lookup when the caller gives none. */
export const DEFAULT_RESOLVE_TIMEOUT_MS = 5_000;

/** Options for resolveHost(). */
export interface ResolveHostOptions extends DeadlineOptions {
  /** Only this address family (default 0: both). */
  family?: 0 | 4 | 6;
  /** Put this family's addresses first (default: the resolver's own order). */
  prefer?: 4 | 6;
  /**
   * DNS servers to ask instead of the system resolver ("1.1.1.1", "1.1.1.1:5353",
   * "[2606:4700::1]:53"). /etc/hosts does not apply to these lookups.
   */
  servers?: readonly string[];
}

/** RFC 1035 section 2.3.4: a name is at most 253 characters in text form. */
const MAX_NAME_LENGTH = 253;

function abortion(signal: AbortSignal): Promise<never> {
  return new Promise<never>((_resolve, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

// One Resolver per distinct server list: setServers() is not free and the exit asks the same
// servers for every OPEN.
const resolvers = new Map<string, Resolver>();

function resolverFor(servers: readonly string[]): Resolver {
  const key = servers.join(',');
  let resolver = resolvers.get(key);
  if (resolver === undefined) {
    resolver = new Resolver();
    resolver.setServers([...servers]);
    resolvers.set(key, resolver);
  }
  return resolver;
}

// A family with no records answers ENODATA (or ENOTFOUND from some servers); that is only a
// failure when the other family has nothing either.
const EMPTY_ANSWER = new Set(['ENODATA', 'ENOTFOUND']);

async function queryServers(resolver: Resolver, host: string, family: 0 | 4 | 6): Promise<{ address: string; family: number }[]> {
  const ask = async (fam: 4 | 6): Promise<{ address: string; family: number }[]> => {
    try {
      const addresses = fam === 4 ? await resolver.resolve4(host) : await resolver.resolve6(host);
      return addresses.map((address) => ({ address, family: fam }));
    } catch (err) {
      if (family === 0 && EMPTY_ANSWER.has((err as { code?: string }).code ?? '')) return [];
      throw err;
    }
  };
  const families: (4 | 6)[] = family === 0 ? [4, 6] : [family];
  const answers = (await Promise.all(families.map(ask))).flat();
  if (answers.length === 0) throw Object.assign(new Error(`no A or AAAA records for ${host}`), { code: 'ENOTFOUND' });
  return answers;
}

/**
 * Resolves a host name to IP address strings with the system resolver (getaddrinfo, so
 * /etc/hosts applies), or by asking `servers` directly when given. IP literals, bracketed IPv6 included, come back as-is without a lookup
 * whatever `family` says. The exit checks egress policy on these addresses, not on the name.
 * Rejects with BAD_ADDRESS (empty or overlong name), DNS_FAILED (the resolver's code, such as
 * ENOTFOUND, is the cause), TIMEOUT (default 5 s; the lookup itself cannot be cancelled and is
 * left to finish in the background) or ABORTED.
 */
export async function resolveHost(name: string, options: ResolveHostOptions = {}): Promise<string[]> {
  const host = name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name;
  if (net.isIP(host) !== 0) return [host];
  if (host.length === 0 || host.length > MAX_NAME_LENGTH) {
    throw codedError(RangeError, ErrorCode.BAD_ADDRESS, `Host name must be 1-${MAX_NAME_LENGTH} characters, got ${host.length}`);
  }
  const deadline = armDeadline(`DNS lookup of ${host}`, options, DEFAULT_RESOLVE_TIMEOUT_MS);
  let found: { address: string; family: number }[];
  try {
    const query =
      options.servers !== undefined && options.servers.length > 0
        ? queryServers(resolverFor(options.servers), host, options.family ?? 0)
        : lookup(host, { all: true, family: options.family ?? 0, verbatim: true });
    found = await Promise.race([query, abortion(deadline.signal)]);
  } catch (err) {
    if (deadline.signal.aborted) throw deadline.signal.reason;
    const code = (err as { code?: unknown }).code;
    throw codedError(Error, ErrorCode.DNS_FAILED, `Could not resolve ${host}: ${typeof code === 'string' ? code : (err as Error).message}`, err);
  } finally {
    deadline.clear();
  }
  const addresses = [...new Set(found.map((entry) => entry.address))];
  if (addresses.length === 0) {
    throw codedError(Error, ErrorCode.DNS_FAILED, `Could not resolve ${host}: the resolver returned no addresses`);
  }
  const prefer = options.prefer;
  if (prefer === undefined) return addresses;
  const first = addresses.filter((address) => net.isIP(address) === prefer);
  return [...first, ...addresses.filter((address) => net.isIP(address) !== prefer)];
}

/**
 * Egress policy: which RESOLVED destination addresses an exit may dial.
 *
 * Defaults refuse every non-public range (the union of Tor's ExitPolicyRejectPrivate set,
 * Outline's RequirePublicIP and the IANA special-purpose registries, RFC 6890), plus cloud
 * metadata endpoints. Operators open ranges with `allow` and close more with `deny`; see
 * docs/routing.md for the decision order.
 */
import { codedError, ErrorCode } from '../../shared/errors.ts';
import { cidrContains, normalizeMappedCidr, parseCidr, type Cidr } from './cidr.ts';
import { embeddedIPv4, formatIP, parseIP } from '../../shared/net/ip.ts';

/** Why the policy refused an address. */
export type EgressDenyReason =
  | 'invalid'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'cgnat'
  | 'multicast'
  | 'broadcast'
  | 'reserved'
  | 'documentation'
  | 'benchmarking'
  | 'metadata'
  | 'unique_local'
  | 'site_local'
  | 'denied';

/** The outcome of `check()`. `address` is the canonical text of what was judged. */
export type EgressDecision =
  | { readonly allowed: true; readonly address: string }
  | {
      readonly allowed: false;
      readonly reason: EgressDenyReason;
      readonly address: string | null;
      /** The rule that decided ("10.0.0.0/8"), null for unparsable input. */
      readonly rule: string | null;
    };

/** Operator configuration: CIDR lists; `deny` defaults to empty. */
export type EgressPolicyOptions = {
  readonly allow?: readonly string[];
  readonly deny?: readonly string[];
  /** Config path used in error messages, e.g. "exit.egress". */
  readonly field?: string;
};

/** A compiled policy. `check` is pure and cheap enough to call for every OPEN. */
export type EgressPolicy = {
  check(ip: string): EgressDecision;
  /** Same as `check` for an already-parsed 4- or 16-byte address. */
  checkBytes(bytes: Uint8Array): EgressDecision;
};

/** Allowlist for the all-in-one dev mode and tests: IPv4 and IPv6 loopback. */
export const LOOPBACK_ALLOW: readonly string[] = ['127.0.0.0/8', '::1/128'];

// How an IPv6 range hides an IPv4 destination that the policy must judge too.
type Embed = 'nat64' | '6to4' | 'teredo';
type Builtin = { cidr: Cidr; reason: EgressDenyReason | null; embed?: Embed };

function builtin(text: string, reason: EgressDenyReason | null, embed?: Embed): Builtin {
  const cidr = parseCidr(text, 'builtin');
  return embed === undefined ? { cidr, reason } : { cidr, reason, embed };
}

// Longest-prefix match decides, so a specific entry overrides the range around it
// (169.254.169.254 is 'metadata' inside 'link_local'). `null` means public.
const BUILTINS: readonly Builtin[] = [
  builtin('0.0.0.0/0', null),
  builtin('0.0.0.0/8', 'unspecified'), // RFC 1122 3.2.1.3; Linux dials 0.0.0.0 as localhost
  builtin('10.0.0.0/8', 'private'), // RFC 1918
  builtin('100.64.0.0/10', 'cgnat'), // RFC 6598
  builtin('100.100.100.200/32', 'metadata'), // Alibaba Cloud metadata
  builtin('127.0.0.0/8', 'loopback'),
  builtin('168.63.129.16/32', 'metadata'), // Azure WireServer: public-looking, host-internal
  builtin('169.254.0.0/16', 'link_local'), // RFC 3927
  builtin('169.254.169.254/32', 'metadata'), // AWS, GCP, Azure, OCI, DigitalOcean IMDS
  builtin('169.254.170.2/32', 'metadata'), // AWS ECS task metadata
  builtin('172.16.0.0/12', 'private'),
  builtin('192.0.0.0/24', 'reserved'), // IETF protocol assignments, RFC 6890
  builtin('192.0.2.0/24', 'documentation'), // RFC 5737
  builtin('192.88.99.0/24', 'reserved'), // deprecated 6to4 relay anycast, RFC 7526
  builtin('192.168.0.0/16', 'private'),
  builtin('198.18.0.0/15', 'benchmarking'), // RFC 2544
  builtin('198.51.100.0/24', 'documentation'),
  builtin('203.0.113.0/24', 'documentation'),
  builtin('224.0.0.0/4', 'multicast'),
  builtin('240.0.0.0/4', 'reserved'), // RFC 1112 "future use"
  builtin('255.255.255.255/32', 'broadcast'),
  // IPv6: only 2000::/3 is allocated global unicast; everything else is refused unless named.
  builtin('::/0', 'reserved'),
  builtin('2000::/3', null),
  builtin('::/128', 'unspecified'),
  builtin('::1/128', 'loopback'),
  builtin('64:ff9b::/96', null, 'nat64'), // RFC 6052 well-known NAT64 prefix
  builtin('64:ff9b:1::/48', 'reserved'), // RFC 8215 local-use translation
  builtin('100::/64', 'reserved'), // RFC 6666 discard-only
  builtin('2001::/23', 'reserved'), // IETF protocol assignments, RFC 2928
  builtin('2001::/32', null, 'teredo'), // RFC 4380
  builtin('2001:2::/48', 'benchmarking'), // RFC 5180
  builtin('2001:db8::/32', 'documentation'), // RFC 3849
  builtin('2002::/16', null, '6to4'), // RFC 3056
  builtin('3fff::/20', 'documentation'), // RFC 9637
  builtin('fc00::/7', 'unique_local'), // RFC 4193
  builtin('fd00:ec2::254/128', 'metadata'), // AWS IMDS over IPv6
  builtin('fe80::/10', 'link_local'),
  builtin('fec0::/10', 'site_local'), // RFC 3879, deprecated but still routed on some LANs
  builtin('ff00::/8', 'multicast'),
];

type Rule = { cidr: Cidr; allow: boolean };

function longestMatch<T extends { cidr: Cidr }>(list: readonly T[], addr: Uint8Array): T | null {
  let best: T | null = null;
  for (const entry of list) {
    if (!cidrContains(entry.cidr, addr)) continue;
    if (best === null || entry.cidr.prefix > best.cidr.prefix) best = entry;
  }
  return best;
}

/** The IPv4 addresses an IPv6 translation prefix will actually reach. */
function embeddedTargets(embed: Embed, b: Uint8Array): Uint8Array[] {
  if (embed === 'nat64') return [b.slice(12, 16)];
  if (embed === '6to4') return [b.slice(2, 6)];
  // Teredo: server IPv4 in bits 32-63, client IPv4 obfuscated (inverted) in bits 96-127.
  const client = b.slice(12, 16).map((x) => x ^ 0xff);
  return [b.slice(4, 8), client];
}

function compileRules(list: readonly string[] | undefined, allow: boolean, field: string): Rule[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) {
    throw codedError(TypeError, ErrorCode.BAD_CONFIG, `${field} must be an array of CIDR strings`);
  }
  return list.map((text, i) => ({
    cidr: normalizeMappedCidr(parseCidr(text, `${field}[${i}]`)),
    allow,
  }));
}

/**
 * Compiles a policy. Throws RangeError/TypeError with code BAD_CONFIG naming the bad entry
 * (e.g. `exit.egress.allow[1] "10.0.0.1/8" has host bits set ...`).
 */
export function createEgressPolicy(options: EgressPolicyOptions = {}): EgressPolicy {
  const field = options.field ?? 'egress';
  const rules = [
    ...compileRules(options.allow, true, `${field}.allow`),
    ...compileRules(options.deny, false, `${field}.deny`),
  ];

  // Operator rules first (longest prefix wins; deny wins a tie), then the builtin table.
  const decide = (addr: Uint8Array, depth: number): EgressDecision => {
    const address = formatIP(addr);
    let best: Rule | null = null;
    for (const rule of rules) {
      if (!cidrContains(rule.cidr, addr)) continue;
      const longer = best === null || rule.cidr.prefix > best.cidr.prefix;
      const tieDeny = best !== null && rule.cidr.prefix === best.cidr.prefix && !rule.allow;
      if (longer || tieDeny) best = rule;
    }
    if (best !== null) {
      return best.allow
        ? { allowed: true, address }
        : { allowed: false, reason: 'denied', address, rule: best.cidr.text };
    }
    const hit = longestMatch(BUILTINS, addr);
    if (hit === null) return { allowed: true, address };
    if (hit.reason !== null) {
      return { allowed: false, reason: hit.reason, address, rule: hit.cidr.text };
    }
    if (hit.embed !== undefined && depth === 0) {
      for (const v4 of embeddedTargets(hit.embed, addr)) {
        const inner = decide(v4, depth + 1);
        if (!inner.allowed) return { ...inner, address, rule: `${hit.cidr.text} -> ${inner.rule}` };
      }
    }
    return { allowed: true, address };
  };

  const checkBytes = (bytes: Uint8Array): EgressDecision => {
    if (bytes.length !== 4 && bytes.length !== 16) {
      return { allowed: false, reason: 'invalid', address: null, rule: null };
    }
    // A dual-stack socket dials ::ffff:a.b.c.d as a.b.c.d: judge what is really reached.
    const v4 = bytes.length === 16 ? embeddedIPv4(bytes) : null;
    return decide(v4 ?? bytes, 0);
  };

  return {
    checkBytes,
    check(ip: string): EgressDecision {
      const parsed = typeof ip === 'string' ? parseIP(ip) : null;
      if (parsed === null) return { allowed: false, reason: 'invalid', address: null, rule: null };
      return checkBytes(parsed.bytes);
    },
  };
}

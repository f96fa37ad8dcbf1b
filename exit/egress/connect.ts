/**
 * Opening an egress TCP connection for an OPEN: resolve the name (IP literals skip DNS), judge
 * every candidate address with the egress policy, dial only the allowed ones, one after the
 * other, within one connect deadline.
 *
 * The policy is applied to the exact address that is dialled, never to the name, and the
 * dialer is given that address, not the name: a resolver that answers differently on a second
 * lookup (DNS rebinding) cannot slip a refused address past the check (docs/routing.md 3).
 */
import { ErrorCode, hasCode } from '../../shared/errors.ts';
import { parseIP } from '../../shared/net/ip.ts';
import { OpenFailReason } from '../../shared/protocol/codes.ts';
import { AddressType } from '../../shared/protocol/constants.ts';
import type { Endpoint } from '../../shared/protocol/address.ts';
import { armDeadline, dialTcp, resolveHost, type DialTcpOptions, type ResolveHostOptions, type TcpConnection } from '../../shared/runtime/index.ts';
import { connectFailure, egressFailure, moreInformative, resolveFailure, type EgressFailure } from './failure.ts';
import type { EgressDecision, EgressPolicy } from './policy.ts';

/** The two network operations egress needs; tests and the UDP relay pass their own. */
export interface EgressNet {
  resolve(name: string, options: ResolveHostOptions): Promise<string[]>;
  dial(ip: string, port: number, options: DialTcpOptions): Promise<TcpConnection>;
}

/** The real network: shared/runtime's resolver and TCP dialer. */
export const RUNTIME_NET: EgressNet = { resolve: resolveHost, dial: dialTcp };

/** How the exit resolves and dials (from ExitConfig: connectTimeout, dns.*, egress.*). */
export interface EgressSettings {
  policy: EgressPolicy;
  /** DNS plus TCP connect budget for one OPEN, ms. */
  connectTimeoutMs: number;
  /** Budget of the lookup alone, ms (it also stays within connectTimeoutMs). */
  dnsTimeoutMs: number;
  /** Address family dialled first. */
  prefer: 4 | 6;
  /** DNS servers to ask instead of the system resolver (config dns.servers). */
  dnsServers?: readonly string[];
  net?: EgressNet;
}

/** Addresses that passed the policy, in dialling order. */
export type ResolveResult =
  | { ok: true; addresses: string[] }
  | { ok: false; failure: EgressFailure; refusal?: EgressDecision };

/** A connected socket, or why there is none. */
export type ConnectResult =
  | { ok: true; conn: TcpConnection; address: string; attempts: number }
  | { ok: false; failure: EgressFailure; refusal?: EgressDecision };

function familyOf(address: string): 4 | 6 {
  return parseIP(address)?.family ?? 4;
}

/**
 * Orders addresses preferred family first, then alternating families (RFC 8305 section 4),
 * so one broken family costs one attempt, not all of them.
 */
export function interleaveFamilies(addresses: readonly string[], prefer: 4 | 6): string[] {
  const first = addresses.filter((a) => familyOf(a) === prefer);
  const second = addresses.filter((a) => familyOf(a) !== prefer);
  const out: string[] = [];
  for (let i = 0; i < Math.max(first.length, second.length); i++) {
    if (i < first.length) out.push(first[i]!);
    if (i < second.length) out.push(second[i]!);
  }
  return out;
}

function abortFailure(reason: unknown): EgressFailure {
  return hasCode(reason, ErrorCode.TIMEOUT)
    ? egressFailure(OpenFailReason.TIMEOUT, 'timeout', 'connect deadline')
    : egressFailure(OpenFailReason.GENERAL_FAILURE, 'cancelled', 'cancelled');
}

/**
 * Resolves `endpoint.host` and keeps the addresses the policy allows. Every refused address is
 * dropped; if none is left the answer is NOT_ALLOWED with the first refusal (for logs).
 */
export async function resolveAllowed(
  endpoint: Endpoint,
  settings: EgressSettings,
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<ResolveResult> {
  const net = settings.net ?? RUNTIME_NET;
  let candidates: string[];
  if (endpoint.addressType === AddressType.DOMAIN) {
    const lookup: ResolveHostOptions = { prefer: settings.prefer, timeoutMs: Math.min(settings.dnsTimeoutMs, options.timeoutMs ?? Infinity) };
    if (options.signal !== undefined) lookup.signal = options.signal;
    if (settings.dnsServers !== undefined && settings.dnsServers.length > 0) lookup.servers = settings.dnsServers;
    try {
      candidates = await net.resolve(endpoint.host, lookup);
    } catch (err) {
      if (options.signal?.aborted) return { ok: false, failure: abortFailure(options.signal.reason) };
      return { ok: false, failure: resolveFailure(err) };
    }
  } else {
    candidates = [endpoint.host];
  }
  const allowed: string[] = [];
  let refusal: EgressDecision | undefined;
  for (const address of candidates) {
    const decision = settings.policy.check(address);
    if (decision.allowed) allowed.push(address);
    else refusal ??= decision;
  }
  if (allowed.length === 0) {
    const why = refusal !== undefined && !refusal.allowed ? refusal.reason : 'no address';
    const result: ResolveResult = { ok: false, failure: egressFailure(OpenFailReason.NOT_ALLOWED, 'policy', why) };
    if (refusal !== undefined) result.refusal = refusal;
    return result;
  }
  return { ok: true, addresses: interleaveFamilies(allowed, settings.prefer) };
}

/**
 * Resolves, checks and dials `endpoint` within `connectTimeoutMs`. Addresses are tried in
 * order; each attempt gets an equal share of the time left, so one black-holed address cannot
 * use the whole budget. Never rejects: failures come back as OPEN_FAIL reasons.
 */
export async function connectEgress(endpoint: Endpoint, settings: EgressSettings, signal?: AbortSignal): Promise<ConnectResult> {
  if (endpoint.port === 0) return { ok: false, failure: egressFailure(OpenFailReason.GENERAL_FAILURE, 'error', 'port 0') };
  const net = settings.net ?? RUNTIME_NET;
  const started = performance.now();
  const deadline = armDeadline('Egress connect', signal === undefined ? { timeoutMs: settings.connectTimeoutMs } : { signal, timeoutMs: settings.connectTimeoutMs }, settings.connectTimeoutMs);
  const left = (): number => settings.connectTimeoutMs - (performance.now() - started);
  try {
    const resolved = await resolveAllowed(endpoint, settings, { signal: deadline.signal, timeoutMs: Math.max(1, left()) });
    if (!resolved.ok) return resolved;
    const { addresses } = resolved;
    let failure: EgressFailure | undefined;
    for (let i = 0; i < addresses.length; i++) {
      const remaining = left();
      if (deadline.signal.aborted) return { ok: false, failure: abortFailure(deadline.signal.reason) };
      if (remaining <= 0) return { ok: false, failure: egressFailure(OpenFailReason.TIMEOUT, 'timeout', 'connect deadline') };
      const address = addresses[i]!;
      const budget = Math.max(1, Math.floor(remaining / (addresses.length - i)));
      try {
        const conn = await net.dial(address, endpoint.port, { timeoutMs: budget, signal: deadline.signal });
        return { ok: true, conn, address, attempts: i + 1 };
      } catch (err) {
        if (deadline.signal.aborted) return { ok: false, failure: abortFailure(deadline.signal.reason) };
        const f = connectFailure(err);
        failure = failure === undefined ? f : moreInformative(failure, f);
      }
    }
    return { ok: false, failure: failure ?? egressFailure(OpenFailReason.GENERAL_FAILURE, 'error', 'no attempt') };
  } finally {
    deadline.clear();
  }
}

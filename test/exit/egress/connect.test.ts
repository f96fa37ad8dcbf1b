import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { codedError, ErrorCode } from '../../../shared/errors.ts';
import { OpenFailReason } from '../../../shared/protocol/codes.ts';
import { toEndpoint } from '../../../shared/protocol/address.ts';
import type { DialTcpOptions, ResolveHostOptions, TcpConnection } from '../../../shared/runtime/index.ts';
import { connectEgress, interleaveFamilies, type EgressNet, type EgressSettings } from '../../../exit/egress/connect.ts';
import { connectFailure, resolveFailure } from '../../../exit/egress/failure.ts';
import { createEgressPolicy } from '../../../exit/egress/policy.ts';

function systemError(code: string): Error {
  return codedError(Error, ErrorCode.CONNECT_FAILED, `connect failed: ${code}`, Object.assign(new Error(code), { code }));
}

/** A scripted network: names resolve to fixed answers; each address connects or fails as told. */
function fakeNet(names: Record<string, string[]>, outcomes: Record<string, string | 'ok'>): EgressNet & { dialled: string[]; budgets: number[] } {
  const dialled: string[] = [];
  const budgets: number[] = [];
  return {
    dialled,
    budgets,
    async resolve(name: string, _o: ResolveHostOptions) {
      const found = names[name];
      if (found === undefined) throw codedError(Error, ErrorCode.DNS_FAILED, 'nope', Object.assign(new Error('ENOTFOUND'), { code: 'ENOTFOUND' }));
      return found;
    },
    async dial(ip: string, _port: number, o: DialTcpOptions) {
      dialled.push(ip);
      budgets.push(o.timeoutMs ?? -1);
      const outcome = outcomes[ip] ?? 'ECONNREFUSED';
      if (outcome === 'ok') return { remoteAddress: ip } as unknown as TcpConnection;
      if (outcome === 'TIMEOUT') throw codedError(Error, ErrorCode.TIMEOUT, 'slow');
      throw systemError(outcome);
    },
  };
}

function settings(net: EgressNet, allow: string[] = []): EgressSettings {
  return { policy: createEgressPolicy({ allow }), connectTimeoutMs: 10_000, dnsTimeoutMs: 5_000, prefer: 4, net };
}

describe('connectEgress()', () => {
  it('dials only the addresses the policy allows when a name resolves to public and private ones (rebinding)', async () => {
    const net = fakeNet({ 'mixed.example': ['127.0.0.1', '93.184.216.34', '10.1.2.3', '::1'] }, { '93.184.216.34': 'ok' });
    const result = await connectEgress(toEndpoint('mixed.example', 443), settings(net));
    assert.equal(result.ok, true);
    assert.deepEqual(net.dialled, ['93.184.216.34']);
  });

  it('refuses with NOT_ALLOWED when every resolved address is refused, naming the first reason', async () => {
    const net = fakeNet({ 'inside.example': ['169.254.169.254', '10.0.0.1'] }, {});
    const result = await connectEgress(toEndpoint('inside.example', 80), settings(net));
    assert.equal(result.ok, false);
    if (result.ok) return;
    assert.equal(result.failure.reason, OpenFailReason.NOT_ALLOWED);
    assert.equal(result.failure.detail, 'metadata');
    assert.deepEqual(net.dialled, []);
  });

  it('does not look up IP literals and judges them directly', async () => {
    const net = fakeNet({}, { '1.1.1.1': 'ok' });
    assert.equal((await connectEgress(toEndpoint('1.1.1.1', 53), settings(net))).ok, true);
    const refused = await connectEgress(toEndpoint('::ffff:10.0.0.1', 53), settings(net));
    assert.equal(refused.ok ? -1 : refused.failure.reason, OpenFailReason.NOT_ALLOWED);
  });

  it('tries the next address after a failure, preferred family first, alternating families', async () => {
    const net = fakeNet({ 'multi.example': ['2606:4700::1', '2606:4700::2', '1.1.1.1', '1.0.0.1'] }, { '1.0.0.1': 'ok' });
    const result = await connectEgress(toEndpoint('multi.example', 443), settings(net));
    assert.equal(result.ok && result.address, '1.0.0.1');
    assert.deepEqual(net.dialled, ['1.1.1.1', '2606:4700::1', '1.0.0.1']);
    // Each attempt gets an equal share of what is left, not the whole budget.
    assert.ok(net.budgets[0]! <= 10_000 / 4 + 1, `first budget ${net.budgets[0]}`);
  });

  it('answers with the most telling failure when all addresses fail', async () => {
    const net = fakeNet({ 'down.example': ['1.1.1.1', '2606:4700::1'] }, { '1.1.1.1': 'ENETUNREACH', '2606:4700::1': 'ECONNREFUSED' });
    const result = await connectEgress(toEndpoint('down.example', 443), settings(net));
    assert.equal(result.ok ? -1 : result.failure.reason, OpenFailReason.CONNECTION_REFUSED);
  });

  it('answers DNS_FAILURE for an unknown name and GENERAL_FAILURE for port 0', async () => {
    const net = fakeNet({}, {});
    const dns = await connectEgress(toEndpoint('unknown.example', 443), settings(net));
    assert.equal(dns.ok ? -1 : dns.failure.reason, OpenFailReason.DNS_FAILURE);
    const port0 = await connectEgress(toEndpoint('1.1.1.1', 0), settings(net));
    assert.equal(port0.ok ? -1 : port0.failure.reason, OpenFailReason.GENERAL_FAILURE);
  });

  it('stops when the caller aborts, without dialling', async () => {
    const net = fakeNet({}, { '1.1.1.1': 'ok' });
    const controller = new AbortController();
    controller.abort();
    const result = await connectEgress(toEndpoint('1.1.1.1', 443), settings(net), controller.signal);
    assert.equal(result.ok ? 'ok' : result.failure.label, 'cancelled');
  });
});

describe('OPEN_FAIL reason mapping', () => {
  it('maps socket errors to the SOCKS5-compatible reasons of docs/protocol.md 2.5', () => {
    const table: Array<[string, number]> = [
      ['ECONNREFUSED', OpenFailReason.CONNECTION_REFUSED],
      ['ENETUNREACH', OpenFailReason.NETWORK_UNREACHABLE],
      ['EHOSTUNREACH', OpenFailReason.HOST_UNREACHABLE],
      ['ETIMEDOUT', OpenFailReason.TIMEOUT],
      ['EAFNOSUPPORT', OpenFailReason.ADDRESS_TYPE_NOT_SUPPORTED],
      ['EPERM', OpenFailReason.GENERAL_FAILURE],
    ];
    for (const [code, reason] of table) assert.equal(connectFailure(systemError(code)).reason, reason, code);
    assert.equal(connectFailure(codedError(Error, ErrorCode.TIMEOUT, 'deadline')).reason, OpenFailReason.TIMEOUT);
    assert.equal(resolveFailure(codedError(Error, ErrorCode.TIMEOUT, 'dns deadline')).reason, OpenFailReason.DNS_FAILURE);
  });

  it('orders addresses preferred family first, then alternating', () => {
    assert.deepEqual(interleaveFamilies(['::1', '::2', '1.1.1.1'], 6), ['::1', '1.1.1.1', '::2']);
    assert.deepEqual(interleaveFamilies(['::1', '::2', '1.1.1.1'], 4), ['1.1.1.1', '::1', '::2']);
  });
});

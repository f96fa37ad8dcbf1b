import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { ErrorCode, hasCode } from '../../../shared/errors.ts';
import { resolveHost } from '../../../shared/runtime/dns.ts';

describe('resolveHost()', () => {
  it('returns IP literals as-is, bracketed IPv6 included, without a lookup', async () => {
    assert.deepEqual(await resolveHost('192.0.2.7'), ['192.0.2.7']);
    assert.deepEqual(await resolveHost('2001:db8::1'), ['2001:db8::1']);
    assert.deepEqual(await resolveHost('[::1]'), ['::1']);
    assert.deepEqual(await resolveHost('192.0.2.7', { family: 6 }), ['192.0.2.7']);
  });

  it('resolves localhost through the system resolver and honours family', async () => {
    const any = await resolveHost('localhost', { timeoutMs: 5_000 });
    assert.ok(any.length > 0 && any.every((address) => net.isIP(address) !== 0));
    assert.equal(new Set(any).size, any.length, 'addresses are deduplicated');
    const v4 = await resolveHost('localhost', { family: 4, timeoutMs: 5_000 });
    assert.ok(v4.includes('127.0.0.1'));
    assert.ok(v4.every((address) => net.isIPv4(address)));
    const preferred = await resolveHost('localhost', { prefer: 6, timeoutMs: 5_000 });
    const firstV4 = preferred.findIndex((address) => net.isIPv4(address));
    assert.ok(preferred.slice(firstV4 === -1 ? preferred.length : firstV4).every((address) => net.isIPv4(address)));
  });

  it('rejects an empty or overlong name with BAD_ADDRESS', async () => {
    await assert.rejects(resolveHost(''), (err) => hasCode(err, ErrorCode.BAD_ADDRESS));
    await assert.rejects(resolveHost(`${'a'.repeat(250)}.com`), (err) => hasCode(err, ErrorCode.BAD_ADDRESS));
  });

  it('rejects a name under .invalid (RFC 6761) with DNS_FAILED, or TIMEOUT if no resolver answers', async () => {
    await assert.rejects(resolveHost('apfsds-test.invalid', { timeoutMs: 4_000 }), (err) => hasCode(err, ErrorCode.DNS_FAILED) || hasCode(err, ErrorCode.TIMEOUT));
  });

  it('rejects with ABORTED when the signal is already aborted', async () => {
    await assert.rejects(resolveHost('localhost', { signal: AbortSignal.abort() }), (err) => hasCode(err, ErrorCode.ABORTED));
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isRetryableOpenFail, OpenFailReason, Socks5Reply, socks5ReplyFor } from '../../../shared/protocol/index.ts';

describe('OPEN_FAIL reasons and SOCKS5 replies (RFC 1928 section 6)', () => {
  it('maps every reason to the documented SOCKS5 REP', () => {
    const expected: Record<keyof typeof OpenFailReason, number> = {
      GENERAL_FAILURE: 0x01,
      NOT_ALLOWED: 0x02,
      NETWORK_UNREACHABLE: 0x03,
      HOST_UNREACHABLE: 0x04,
      CONNECTION_REFUSED: 0x05,
      TIMEOUT: 0x06,
      NETWORK_NOT_SUPPORTED: 0x07,
      ADDRESS_TYPE_NOT_SUPPORTED: 0x08,
      NO_EXIT: 0x03,
      DNS_FAILURE: 0x04,
      QUOTA_EXCEEDED: 0x02,
      STREAM_LIMIT: 0x01,
      EXIT_UNAVAILABLE: 0x01,
    };
    for (const [name, reason] of Object.entries(OpenFailReason)) {
      assert.equal(socks5ReplyFor(reason), expected[name as keyof typeof OpenFailReason], name);
    }
  });

  it('keeps the SOCKS5-aligned reasons numerically equal to their replies', () => {
    assert.equal(OpenFailReason.CONNECTION_REFUSED, Socks5Reply.CONNECTION_REFUSED);
    assert.equal(OpenFailReason.TIMEOUT, Socks5Reply.TTL_EXPIRED);
    assert.equal(OpenFailReason.ADDRESS_TYPE_NOT_SUPPORTED, Socks5Reply.ADDRESS_TYPE_NOT_SUPPORTED);
  });

  it('retries only reasons that belong to the exit, not the destination', () => {
    const retryable = Object.values(OpenFailReason).filter((r) => isRetryableOpenFail(r));
    assert.deepEqual(retryable.sort(), [OpenFailReason.STREAM_LIMIT, OpenFailReason.EXIT_UNAVAILABLE].sort());
  });
});

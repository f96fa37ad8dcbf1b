import { test } from 'node:test';
import assert from 'node:assert/strict';
import { proxyFailureForError, proxyFailureForReason } from '../../client/open-failure.ts';
import { PROXY_FAILURES } from '../../client/proxy/failure.ts';
import { codedError, ErrorCode } from '../../shared/errors.ts';
import { openFailedError } from '../../shared/mux/mux-errors.ts';
import { OpenFailReason, socks5ReplyFor } from '../../shared/protocol/codes.ts';

test('every OPEN_FAIL reason maps to the SOCKS5 reply socks5ReplyFor gives', () => {
  for (const reason of Object.values(OpenFailReason)) {
    assert.equal(PROXY_FAILURES[proxyFailureForReason(reason)].socks5, socks5ReplyFor(reason), `reason 0x${reason.toString(16)}`);
  }
});

test('a policy refusal is SOCKS5 0x02 and HTTP 403; refused and unreachable are 0x05/0x04 and 502', () => {
  assert.deepEqual(PROXY_FAILURES[proxyFailureForReason(OpenFailReason.NOT_ALLOWED)], { socks5: 0x02, httpStatus: 403 });
  assert.deepEqual(PROXY_FAILURES[proxyFailureForReason(OpenFailReason.CONNECTION_REFUSED)], { socks5: 0x05, httpStatus: 502 });
  assert.deepEqual(PROXY_FAILURES[proxyFailureForReason(OpenFailReason.HOST_UNREACHABLE)], { socks5: 0x04, httpStatus: 502 });
});

test('errors map by code: OPEN_FAILED by reason, TIMEOUT to timeout, no session to general', () => {
  assert.equal(proxyFailureForError(openFailedError(OpenFailReason.NOT_ALLOWED, true)), 'policy');
  assert.equal(proxyFailureForError(codedError(Error, ErrorCode.TIMEOUT, 'no answer')), 'timeout');
  assert.equal(proxyFailureForError(codedError(Error, ErrorCode.CONNECT_FAILED, 'no session')), 'general');
  assert.equal(proxyFailureForError(codedError(Error, ErrorCode.UNSUPPORTED, 'no udp')), 'unsupported_command');
  assert.equal(proxyFailureForError(new Error('anything')), 'general');
});

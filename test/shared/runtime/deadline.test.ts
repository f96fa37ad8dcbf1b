import { it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, hasCode } from '../../../shared/errors.ts';
import { armDeadline } from '../../../shared/runtime/deadline.ts';
import { within } from './fixtures.ts';

const aborted = (signal: AbortSignal): Promise<unknown> =>
  new Promise((resolve) => signal.addEventListener('abort', () => resolve(signal.reason), { once: true }));

it('armDeadline() aborts with a TIMEOUT-coded reason when the budget runs out', async () => {
  const deadline = armDeadline('test op', {}, 10);
  assert.ok(hasCode(await within(aborted(deadline.signal), 2_000, 'timeout'), ErrorCode.TIMEOUT));
});

it('armDeadline() aborts with an ABORTED-coded reason when the caller aborts, even beforehand', async () => {
  const controller = new AbortController();
  const deadline = armDeadline('test op', { signal: controller.signal, timeoutMs: 60_000 }, 10);
  controller.abort();
  assert.ok(hasCode(deadline.signal.reason, ErrorCode.ABORTED));
  deadline.clear();
  const early = armDeadline('test op', { signal: AbortSignal.abort() }, 60_000);
  assert.ok(hasCode(early.signal.reason, ErrorCode.ABORTED));
  early.clear();
});

it('armDeadline() stays quiet after clear() and rejects a non-positive timeout with BAD_CONFIG', () => {
  const deadline = armDeadline('test op', { timeoutMs: 1 }, 10);
  deadline.clear();
  assert.equal(deadline.signal.aborted, false);
  assert.throws(() => armDeadline('test op', { timeoutMs: 0 }, 10), (err) => hasCode(err, ErrorCode.BAD_CONFIG));
});

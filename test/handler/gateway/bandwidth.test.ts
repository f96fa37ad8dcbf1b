import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startHandler } from '../../../handler/main.ts';
import { connectClient, exitEntry, handlerConfig, pattern, quietLogger, roundTrip, sha, startFakeExit, testKey, userEntry, within } from './harness.ts';

describe('per-user bandwidth', () => {
  it('delays a user over its rate instead of dropping bytes, both directions counted together', async () => {
    const slow = testKey();
    const exit = await startFakeExit('x', 'eu');
    const rate = 2_000_000;
    const burst = 65_536;
    const handler = await startHandler(
      handlerConfig({
        users: [userEntry('slow', slow, { rateLimit: rate })],
        exits: [exitEntry(exit)],
        limits: { userBandwidth: { rate: 1_000_000_000, burst } },
      }),
      { logger: quietLogger, closeGraceMs: 200 },
    );
    try {
      await within(handler.links.when(() => handler.links.linkCount('x') > 0), 5000, 'link');
      const client = await connectClient(handler.port, slow);
      const data = pattern(1 << 20, 4);
      const started = Date.now();
      const back = await within(roundTrip(client.session, data), 30_000, 'shaped round trip');
      const elapsed = Date.now() - started;
      assert.equal(sha(back), sha(data));
      // Lower bound only: 2 MiB through the user's bucket cannot beat (bytes - burst) / rate.
      const floor = ((2 * data.length - burst) / rate) * 1000;
      assert.ok(elapsed >= floor * 0.9, `took ${elapsed} ms, the bucket allows no less than ${Math.round(floor)} ms`);
      client.close();
    } finally {
      await handler.close();
      await exit.close();
    }
  });
});

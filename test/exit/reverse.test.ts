import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generatePrivateKey } from '../../shared/crypto/keys.ts';
import { startExit, type RunningExit } from '../../exit/main.ts';
import { captureLogger, echoServer, exitConfig, makeKeys, openTcp, quietLogger, readAll, startReverseHandler, until, within, type ReverseHandler } from './harness.ts';

describe('exit in reverse mode (the exit dials the handler)', () => {
  const cleanup: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it('dials the handler, completes KK as initiator and serves streams the handler opens', async () => {
    const keys = makeKeys();
    const handler = await startReverseHandler(keys);
    cleanup.push(() => handler.close());
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    const exit = await startExit(exitConfig(keys, { listen: undefined, handlers: [handler.url], egress: { allow: ['127.0.0.1/32'] } }), {
      logger: quietLogger(),
      drainTimeoutMs: 200,
    });
    cleanup.push(() => exit.close());
    assert.equal(exit.linkPort, undefined);
    const link = await within(handler.nextSession(), 10_000, 'reverse link');
    await until(() => exit.linksUp === 1, 'link counted');
    const ready = await fetch(`http://127.0.0.1:${exit.statusPort}/ready`);
    assert.equal(ready.status, 200);
    await ready.body?.cancel();

    const stream = openTcp(link, '127.0.0.1', echo.port, new TextEncoder().encode('user-7'));
    await within(stream.opened, 10_000, 'OPEN_OK over the reverse link');
    await stream.write(new TextEncoder().encode('through the NAT'));
    stream.end();
    assert.equal((await within(readAll(stream), 10_000, 'echo')).toString(), 'through the NAT');
    assert.equal(exit.reverse[0]?.connected, 1);
  });

  it('redials after the handler drops the link', async () => {
    const keys = makeKeys();
    const handler = await startReverseHandler(keys);
    cleanup.push(() => handler.close());
    const exit = await startExit(exitConfig(keys, { listen: undefined, handlers: [handler.url] }), {
      logger: quietLogger(),
      drainTimeoutMs: 200,
      reconnect: { minMs: 20, maxMs: 200, jitter: 0.5 },
    });
    cleanup.push(() => exit.close());
    const first = await within(handler.nextSession(), 10_000, 'first link');
    first.close();
    await within(handler.nextSession(), 10_000, 'second link after the first was dropped');
    await until(() => exit.reverse[0]?.connected === 2 && exit.linksUp === 1, 'redialled link counted');
  });

  it('with the wrong handler key the handshake fails and the exit retries with growing, capped delays', async () => {
    const keys = makeKeys();
    // The listener holds another cluster key: the exit's KK message 1 cannot be read by it.
    const handler: ReverseHandler = await startReverseHandler(keys, generatePrivateKey());
    cleanup.push(() => handler.close());
    const log = captureLogger('info');
    let exit: RunningExit | undefined = await startExit(
      exitConfig(keys, { listen: undefined, handlers: [handler.url], limits: { handshakeTimeout: '2s' } }),
      { logger: log.logger, drainTimeoutMs: 200, reconnect: { minMs: 20, maxMs: 160, jitter: 0.5 } },
    );
    cleanup.push(async () => {
      await exit?.close();
    });
    const state = exit.reverse[0]!;
    await until(() => state.delays.length >= 6, 'six failed attempts', 1500, 20);
    await exit.close();
    exit = undefined;
    assert.equal(state.connected, 0);
    assert.ok(handler.refusals >= 6, `handler refused ${handler.refusals} handshakes`);
    const delays = state.delays.slice(0, 6);
    // Attempt i waits min(max, min * 2^i), cut by at most half at random: 20, 40, 80, 160, 160, 160.
    delays.forEach((d, i) => {
      const base = Math.min(160, 20 * 2 ** i);
      assert.ok(d >= base / 2 && d <= base, `delay ${i} is ${d}, expected ${base / 2}-${base} (${delays.join(', ')})`);
    });
    const failures = log.lines().filter((l) => l['msg'] === 'link dial failed');
    assert.ok(failures.length >= 6);
    assert.deepEqual(failures.slice(0, 6).map((l) => l['retryInMs']), delays);
  });
});

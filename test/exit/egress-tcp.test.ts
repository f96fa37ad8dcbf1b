import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OpenFailReason } from '../../shared/protocol/codes.ts';
import { Registry } from '../../shared/metrics/registry.ts';
import type { MuxSession } from '../../shared/mux/session.ts';
import { startExit, type RunningExit } from '../../exit/main.ts';
import {
  closedPort,
  dialLink,
  echoServer,
  exitConfig,
  makeKeys,
  openFailReason,
  openTcp,
  patternBytes,
  quietLogger,
  readAll,
  sha256,
  tcpServer,
  until,
  within,
} from './harness.ts';

describe('exit egress over a dial-mode link (allow 127.0.0.1/32)', () => {
  const keys = makeKeys();
  const registry = new Registry();
  let exit: RunningExit;
  let link: MuxSession;
  let echo: Awaited<ReturnType<typeof echoServer>>;

  before(async () => {
    exit = await startExit(exitConfig(keys, { egress: { allow: ['127.0.0.1/32'] } }), { logger: quietLogger(), registry, drainTimeoutMs: 200 });
    echo = await echoServer();
    link = await dialLink(exit.linkPort!, keys);
  });

  after(async () => {
    link.close();
    await exit.close();
    await echo.close();
  });

  it('opens a stream to a local echo server and 10 MiB come back intact (sha256)', async () => {
    const stream = openTcp(link, '127.0.0.1', echo.port);
    await within(stream.opened, 10_000, 'OPEN_OK');
    const data = patternBytes(10 << 20);
    const reading = readAll(stream);
    for (let o = 0; o < data.length; o += 32 * 1024) await stream.write(data.subarray(o, o + 32 * 1024));
    stream.end();
    const back = await within(reading, 60_000, 'echo of 10 MiB');
    assert.equal(back.length, data.length);
    assert.equal(sha256(back), sha256(data));
    await within(stream.closed, 5_000, 'stream closed by both FINs');
    assert.equal(stream.error, null);
    assert.ok(exit.stats().bytesUp >= data.length);
    assert.ok(exit.stats().bytesDown >= data.length);
  });

  it('delivers early data written before OPEN_OK once the connection is up', async () => {
    const stream = openTcp(link, '127.0.0.1', echo.port);
    await stream.write(new TextEncoder().encode('early bytes'));
    stream.end();
    const back = await within(readAll(stream), 10_000, 'early data echo');
    assert.equal(back.toString(), 'early bytes');
  });

  it('answers CONNECTION_REFUSED for a closed port', async () => {
    const port = await closedPort();
    assert.equal(await openFailReason(openTcp(link, '127.0.0.1', port)), OpenFailReason.CONNECTION_REFUSED);
  });

  it('answers DNS_FAILURE for a name that does not resolve', async () => {
    assert.equal(await openFailReason(openTcp(link, 'no-such-host.invalid', 80)), OpenFailReason.DNS_FAILURE);
  });

  it('still refuses loopback addresses the allowlist does not open (::1, 127.0.0.2)', async () => {
    assert.equal(await openFailReason(openTcp(link, '::1', echo.port)), OpenFailReason.NOT_ALLOWED);
    assert.equal(await openFailReason(openTcp(link, '127.0.0.2', echo.port)), OpenFailReason.NOT_ALLOWED);
  });

  it('half-closes toward the target: the target sees FIN and can still answer', async () => {
    let gotFin!: () => void;
    const finSeen = new Promise<void>((r) => (gotFin = r));
    const target = await tcpServer((socket) => {
      const parts: Buffer[] = [];
      socket.on('data', (c: Buffer) => parts.push(c));
      socket.on('end', () => {
        gotFin();
        // Answer after the client's FIN: only works if the other direction is still open.
        socket.end(`got ${Buffer.concat(parts).toString()}`);
      });
    });
    try {
      const stream = openTcp(link, '127.0.0.1', target.port);
      await within(stream.opened, 10_000, 'OPEN_OK');
      await stream.write(new TextEncoder().encode('question'));
      stream.end();
      await within(finSeen, 10_000, 'target sees FIN');
      const back = await within(readAll(stream), 10_000, 'answer after FIN');
      assert.equal(back.toString(), 'got question');
    } finally {
      await target.close();
    }
  });

  it('half-closes toward the link: the target FIN ends the stream read side, writes still arrive', async () => {
    let received = '';
    let done!: () => void;
    const targetDone = new Promise<void>((r) => (done = r));
    const target = await tcpServer((socket) => {
      socket.end('bye'); // FIN first, then keep reading
      socket.on('data', (c: Buffer) => (received += c.toString()));
      socket.on('end', () => done());
    });
    try {
      const stream = openTcp(link, '127.0.0.1', target.port);
      await within(stream.opened, 10_000, 'OPEN_OK');
      const back = await within(readAll(stream), 10_000, 'target FIN');
      assert.equal(back.toString(), 'bye');
      await stream.write(new TextEncoder().encode('after your FIN'));
      stream.end();
      await within(targetDone, 10_000, 'target got the late bytes and FIN');
      assert.equal(received, 'after your FIN');
      await within(stream.closed, 5_000, 'stream closed');
      assert.equal(stream.error, null);
    } finally {
      await target.close();
    }
  });

  it('a RESET from the link aborts the target connection', async () => {
    let closed!: (hadError: boolean) => void;
    const targetClosed = new Promise<boolean>((r) => (closed = r));
    const target = await tcpServer((socket) => {
      socket.on('close', (hadError) => closed(hadError));
    });
    try {
      const stream = openTcp(link, '127.0.0.1', target.port);
      await within(stream.opened, 10_000, 'OPEN_OK');
      stream.reset();
      await within(targetClosed, 10_000, 'target connection closed');
      await until(() => exit.stats().streams === 0, 'bridge gone');
    } finally {
      await target.close();
    }
  });

  it('a target RST resets the stream with CONNECTION_RESET', async () => {
    const target = await tcpServer((socket) => {
      socket.once('data', () => socket.resetAndDestroy());
    });
    try {
      const stream = openTcp(link, '127.0.0.1', target.port);
      await within(stream.opened, 10_000, 'OPEN_OK');
      await stream.write(new TextEncoder().encode('x'));
      await assert.rejects(within(readAll(stream), 10_000, 'reset'), (err: unknown) => (err as { closeCode?: number }).closeCode === 0x07);
    } finally {
      await target.close();
    }
  });

  it('counts bytes, connects and failures in the exit metrics', () => {
    const text = registry.metrics();
    assert.match(text, /apfsds_exit_links_active 1/);
    assert.match(text, /apfsds_exit_open_failures_total\{reason="refused"\} 1/);
    assert.match(text, /apfsds_exit_open_failures_total\{reason="dns"\} 1/);
    assert.match(text, /apfsds_exit_open_failures_total\{reason="policy"\} 2/);
    assert.match(text, /apfsds_exit_bytes_total\{direction="up"\} \d{8}/);
    assert.match(text, /apfsds_exit_connect_seconds_count \d/);
  });
});

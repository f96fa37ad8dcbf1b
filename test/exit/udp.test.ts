import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { ErrorCode, hasCode } from '../../shared/errors.ts';
import { Network } from '../../shared/protocol/constants.ts';
import { toEndpoint, type Endpoint } from '../../shared/protocol/address.ts';
import type { MuxSession } from '../../shared/mux/session.ts';
import type { MuxStream } from '../../shared/mux/stream.ts';
import { dialTcp, resolveHost } from '../../shared/runtime/index.ts';
import { startExit, type RunningExit } from '../../exit/main.ts';
import type { EgressNet } from '../../exit/egress/connect.ts';
import { dialLink, exitConfig, makeKeys, quietLogger, until, within } from './harness.ts';

/** A UDP echo server on 127.0.0.1 that counts what it got. */
async function udpEcho(): Promise<{ port: number; received: string[]; close(): Promise<void> }> {
  const socket = dgram.createSocket('udp4');
  const received: string[] = [];
  socket.on('message', (msg, rinfo) => {
    received.push(msg.toString());
    socket.send(Buffer.concat([Buffer.from('echo:'), msg]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, received, close: () => new Promise<void>((r) => socket.close(() => r())) };
}

function openUdp(link: MuxSession): MuxStream {
  return link.open({ network: Network.UDP, address: toEndpoint('0.0.0.0', 0) });
}

function nextDatagram(stream: MuxStream): { next(): Promise<[Endpoint, string]> } {
  const queue: Array<[Endpoint, string]> = [];
  const waiters: Array<(d: [Endpoint, string]) => void> = [];
  stream.onDatagram((address, payload) => {
    const d: [Endpoint, string] = [address, new TextDecoder().decode(payload)];
    const w = waiters.shift();
    if (w !== undefined) w(d);
    else queue.push(d);
  });
  return {
    next: () => {
      const d = queue.shift();
      return d !== undefined ? Promise.resolve(d) : new Promise((resolve) => waiters.push(resolve));
    },
  };
}

describe('exit UDP associations', () => {
  const keys = makeKeys();
  let exit: RunningExit;
  let link: MuxSession;
  let echo: Awaited<ReturnType<typeof udpEcho>>;

  before(async () => {
    // Names the test controls: one resolves into the allowed /32, one just outside it.
    const names: Record<string, string[]> = { 'allowed.test': ['127.0.0.1'], 'refused.test': ['127.0.0.2'] };
    const net: EgressNet = { resolve: async (name, o) => names[name] ?? resolveHost(name, o), dial: dialTcp };
    exit = await startExit(exitConfig(keys, { egress: { allow: ['127.0.0.1/32'] }, udp: { idleTimeout: '1s' } }), {
      logger: quietLogger(),
      net,
      drainTimeoutMs: 200,
    });
    echo = await udpEcho();
    link = await dialLink(exit.linkPort!, keys);
  });

  after(async () => {
    link.close();
    await exit.close();
    await echo.close();
  });

  it('relays datagrams to an allowed destination and the replies back with their source', async () => {
    const stream = openUdp(link);
    await within(stream.opened, 10_000, 'OPEN_OK');
    const inbox = nextDatagram(stream);
    assert.ok(stream.sendDatagram(toEndpoint('127.0.0.1', echo.port), new TextEncoder().encode('one')));
    const [from, text] = await within(inbox.next(), 10_000, 'reply');
    assert.equal(text, 'echo:one');
    assert.equal(from.host, '127.0.0.1');
    assert.equal(from.port, echo.port);
    assert.equal(exit.stats().udpFlows, 1);
    stream.end();
    await within(stream.closed, 10_000, 'association closed by FIN');
    await until(() => exit.stats().udpFlows === 0, 'flow gone');
  });

  it('drops datagrams the policy refuses, by IP or by name, and keeps the association', async () => {
    const stream = openUdp(link);
    await within(stream.opened, 10_000, 'OPEN_OK');
    const inbox = nextDatagram(stream);
    const before = echo.received.length;
    stream.sendDatagram(toEndpoint('127.0.0.2', echo.port), new TextEncoder().encode('refused-ip'));
    stream.sendDatagram(toEndpoint('refused.test', echo.port), new TextEncoder().encode('refused-name'));
    stream.sendDatagram(toEndpoint('allowed.test', echo.port), new TextEncoder().encode('allowed-name'));
    const [, first] = await within(inbox.next(), 10_000, 'reply to the allowed name');
    assert.equal(first, 'echo:allowed-name');
    stream.sendDatagram(toEndpoint('127.0.0.1', echo.port), new TextEncoder().encode('allowed-ip'));
    const [, second] = await within(inbox.next(), 10_000, 'reply to the allowed address');
    assert.equal(second, 'echo:allowed-ip');
    assert.deepEqual(echo.received.slice(before), ['allowed-name', 'allowed-ip']);
    stream.reset();
  });

  it('closes an idle association with RESET(IDLE_TIMEOUT)', async () => {
    const stream = openUdp(link);
    await within(stream.opened, 10_000, 'OPEN_OK');
    await within(stream.closed, 10_000, 'idle association reset');
    assert.equal((stream.error as { closeCode?: number } | null)?.closeCode, 0x08);
  });
});

describe('exit with udp disabled', () => {
  const keys = makeKeys();
  let exit: RunningExit;
  let link: MuxSession;

  before(async () => {
    exit = await startExit(exitConfig(keys, { udp: { enabled: false } }), { logger: quietLogger(), drainTimeoutMs: 200 });
    link = await dialLink(exit.linkPort!, keys);
  });

  after(async () => {
    link.close();
    await exit.close();
  });

  it('does not offer UDP in its hello, so udp streams cannot be opened on the link', () => {
    assert.throws(() => openUdp(link), (err: unknown) => hasCode(err, ErrorCode.UNSUPPORTED));
  });
});

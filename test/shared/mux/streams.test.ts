import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ErrorCode } from '../../../shared/errors.ts';
import { CloseCode, OpenFailReason } from '../../../shared/protocol/codes.ts';
import { AddressType, Network } from '../../../shared/protocol/constants.ts';
import { Capability } from '../../../shared/protocol/hello.ts';
import { StreamPhase, type MuxStream } from '../../../shared/mux/stream.ts';
import { makePair, pseudoRandomBytes, readAll, settle, TCP_REQUEST } from './pair.ts';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array | null): string | null => (b === null ? null : new TextDecoder().decode(b));
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

describe('MuxSession streams', () => {
  it('open() delivers the request to onOpen and resolves opened after accept()', async () => {
    const p = makePair();
    const s = p.opener.open(TCP_REQUEST);
    assert.equal(s.id, 1);
    assert.equal(s.phase, StreamPhase.OPENING);
    const r = await p.nextAccepted();
    assert.deepEqual(r.request, TCP_REQUEST);
    await s.opened;
    assert.equal(s.phase, StreamPhase.OPEN);
    assert.equal(p.opener.open(TCP_REQUEST).id, 3);
    await p.close();
  });

  it('reject(reason) fails opened with OPEN_FAILED carrying the reason', async () => {
    const p = makePair({}, { onOpen: (stream) => stream.reject(OpenFailReason.CONNECTION_REFUSED) });
    const err = await p.opener.connect(TCP_REQUEST).catch((e: unknown) => e);
    assert.equal((err as { code?: string }).code, ErrorCode.OPEN_FAILED);
    assert.equal((err as { reason?: number }).reason, OpenFailReason.CONNECTION_REFUSED);
    assert.equal(p.opener.streamCount, 0);
    await settle();
    assert.equal(p.acceptor.streamCount, 0);
    await p.close();
  });

  it('an acceptor without onOpen refuses every OPEN', async () => {
    const p = makePair({}, { onOpen: undefined as never });
    const err = await p.opener.connect(TCP_REQUEST).catch((e: unknown) => e);
    assert.equal((err as { code?: string }).code, ErrorCode.OPEN_FAILED);
    await p.close();
  });

  it('carries data both ways and half-closes each direction with FIN', async () => {
    const p = makePair();
    const s = await p.opener.connect(TCP_REQUEST);
    const r = await p.nextAccepted();
    await s.write(text('ping'));
    s.end();
    assert.equal(str(await r.read()), 'ping');
    assert.equal(await r.read(), null);
    // The other direction still flows after the opener's FIN.
    await r.write(text('pong'));
    await r.write(text('!'));
    r.end();
    assert.equal(str(await readAll(s)), 'pong!');
    await Promise.all([s.closed, r.closed]);
    assert.equal(s.phase, StreamPhase.CLOSED);
    assert.equal(p.opener.streamCount, 0);
    assert.equal(p.acceptor.streamCount, 0);
    await p.close();
  });

  it('write() after end() rejects with CLOSED', async () => {
    const p = makePair();
    const s = await p.opener.connect(TCP_REQUEST);
    s.end();
    await assert.rejects(s.write(text('x')), { code: ErrorCode.CLOSED });
    await p.close();
  });

  it('early data written before OPEN_OK reaches the acceptor', async () => {
    let accepted: MuxStream | undefined;
    const p2 = makePair(
      {},
      {
        onOpen: (stream) => {
          accepted = stream;
        },
      },
    );
    const s = p2.opener.open(TCP_REQUEST);
    await s.write(text('GET / HTTP/1.1\r\n\r\n'));
    s.end();
    await settle();
    assert.ok(accepted !== undefined);
    assert.equal(accepted.phase, StreamPhase.PENDING);
    // The acceptor can read early data before answering (a handler forwards it to the exit).
    assert.equal(str(await accepted.read()), 'GET / HTTP/1.1\r\n\r\n');
    assert.equal(await accepted.read(), null);
    accepted.accept();
    await s.opened;
    accepted.end();
    await Promise.all([s.closed, accepted.closed]);
    await p2.close();
  });

  it('early data read before accept() returns its stream credit only after OPEN_OK', async () => {
    let pending: MuxStream | undefined;
    const p = makePair({}, { onOpen: (stream) => (pending = stream) });
    const s = p.opener.open(TCP_REQUEST);
    const early = pseudoRandomBytes(200 * 1024, 11);
    await s.write(early);
    await settle();
    // Reading three quarters of the window would normally send a stream WINDOW at once.
    const got: Uint8Array[] = [];
    while (got.reduce((n, c) => n + c.length, 0) < early.length) got.push((await pending!.read())!.slice());
    await settle();
    assert.equal(s.sendCredit, 256 * 1024 - early.length, 'no stream credit came back before the answer');
    pending!.accept();
    await s.opened;
    await settle();
    assert.equal(s.phase, StreamPhase.OPEN, 'the opener saw no WINDOW before OPEN_OK');
    assert.ok(s.sendCredit > 256 * 1024 - early.length);
    assert.equal(sha(Buffer.concat(got)), sha(early));
    await p.close();
  });

  it('runs many concurrent streams without mixing their bytes', async () => {
    const p = makePair();
    const n = 40;
    const payloads = Array.from({ length: n }, (_, i) => pseudoRandomBytes(5000 + i * 997, i + 1));
    const echo = (async () => {
      for (let i = 0; i < n; i++) {
        const r = await p.nextAccepted();
        void (async () => {
          for (;;) {
            const c = await r.read();
            if (c === null) break;
            await r.write(c.slice());
          }
          r.end();
        })();
      }
    })();
    const results = await Promise.all(
      payloads.map(async (data) => {
        const s = p.opener.open(TCP_REQUEST);
        const reading = readAll(s);
        for (let o = 0; o < data.length; o += 3000) await s.write(data.subarray(o, o + 3000));
        s.end();
        return sha(await reading);
      }),
    );
    await echo;
    assert.deepEqual(results, payloads.map(sha));
    await p.close();
  });

  it('reset() fails the peer side with STREAM_RESET and the close code', async () => {
    const p = makePair();
    const s = await p.opener.connect(TCP_REQUEST);
    const r = await p.nextAccepted();
    const pendingRead = r.read();
    s.reset(CloseCode.CANCEL);
    await assert.rejects(pendingRead, (err: unknown) => {
      const e = err as { code?: string; closeCode?: number; remote?: boolean };
      return e.code === ErrorCode.STREAM_RESET && e.closeCode === CloseCode.CANCEL && e.remote === true;
    });
    await assert.rejects(r.write(text('late')), { code: ErrorCode.STREAM_RESET });
    await assert.rejects(s.read(), { code: ErrorCode.STREAM_RESET });
    assert.equal(p.opener.streamCount, 0);
    await settle();
    assert.equal(p.acceptor.streamCount, 0);
    await p.close();
  });

  it('a reset with unread data returns the session credit it held', async () => {
    const p = makePair({ remote: { sessionWindow: 64 * 1024, streamWindow: 64 * 1024 } }, { local: { sessionWindow: 64 * 1024, streamWindow: 64 * 1024 } });
    const s1 = await p.opener.connect(TCP_REQUEST);
    const r1 = await p.nextAccepted();
    // Fill the whole session window on stream 1 and never read it.
    await s1.write(new Uint8Array(64 * 1024));
    await settle();
    assert.equal(r1.readableLength, 64 * 1024);
    r1.reset();
    // Stream 3 can now use the whole session window again.
    const s3 = await p.opener.connect(TCP_REQUEST);
    const r3 = await p.nextAccepted();
    await s3.write(new Uint8Array(64 * 1024));
    s3.end();
    assert.equal((await readAll(r3)).length, 64 * 1024);
    await p.close();
  });

  it('open() times out with TIMEOUT and resets the stream when no answer comes', async () => {
    const p = makePair({ openTimeoutMs: 20 }, { onOpen: () => {}, openTimeoutMs: 60_000 });
    const s = p.opener.open(TCP_REQUEST);
    await assert.rejects(s.opened, { code: ErrorCode.TIMEOUT });
    await settle();
    // Our RESET closed the acceptor's pending stream too.
    assert.equal(p.acceptor.streamCount, 0);
    await p.close();
  });

  it('an unanswered OPEN is refused with OPEN_FAIL(TIMEOUT) after openTimeoutMs on the acceptor', async () => {
    const p = makePair({ openTimeoutMs: 60_000 }, { onOpen: () => {}, openTimeoutMs: 20 });
    const err = await p.opener.connect(TCP_REQUEST).catch((e: unknown) => e);
    assert.equal((err as { code?: string }).code, ErrorCode.OPEN_FAILED);
    assert.equal((err as { reason?: number }).reason, OpenFailReason.TIMEOUT);
    await p.close();
  });

  it('an aborted open() rejects with ABORTED', async () => {
    const p = makePair({}, { onOpen: () => {} });
    const ac = new AbortController();
    const s = p.opener.open(TCP_REQUEST, { signal: ac.signal });
    ac.abort();
    await assert.rejects(s.opened, { code: ErrorCode.ABORTED });
    await p.close();
  });

  it('refuses open() beyond the peer maxStreams with STREAM_LIMIT', async () => {
    const p = makePair({ remote: { maxStreams: 2 } }, { local: { maxStreams: 2 } });
    p.opener.open(TCP_REQUEST);
    p.opener.open(TCP_REQUEST);
    assert.throws(() => p.opener.open(TCP_REQUEST), { code: ErrorCode.STREAM_LIMIT });
    await p.close();
  });

  it('answers an OPEN beyond the local maxStreams with OPEN_FAIL(STREAM_LIMIT)', async () => {
    // The opener believes the peer takes 10; the acceptor takes 1.
    const p = makePair({ remote: { maxStreams: 10 } }, { local: { maxStreams: 1 } });
    await p.opener.connect(TCP_REQUEST);
    const err = await p.opener.connect(TCP_REQUEST).catch((e: unknown) => e);
    assert.equal((err as { reason?: number }).reason, OpenFailReason.STREAM_LIMIT);
    await p.close();
  });

  it('only the opener opens streams', async () => {
    const p = makePair();
    assert.throws(() => p.acceptor.open(TCP_REQUEST), { code: ErrorCode.UNSUPPORTED });
    await p.close();
  });

  it('udp streams carry datagrams both ways when UDP is negotiated', async () => {
    const udp = { network: Network.UDP, address: { addressType: AddressType.IPV4, host: '0.0.0.0', port: 0 } } as const;
    const p = makePair({ capabilities: Capability.UDP }, { capabilities: Capability.UDP });
    const s = await p.opener.connect(udp);
    const r = await p.nextAccepted();
    const dst = { addressType: AddressType.IPV4, host: '192.0.2.7', port: 53 } as const;
    const got = new Promise<[string, string]>((resolve) => r.onDatagram((a, d) => resolve([`${a.host}:${a.port}`, str(d)!])));
    assert.equal(s.sendDatagram(dst, text('query')), true);
    assert.deepEqual(await got, ['192.0.2.7:53', 'query']);
    const back = new Promise<string>((resolve) => s.onDatagram((_a, d) => resolve(str(d)!)));
    assert.equal(r.sendDatagram(dst, text('answer')), true);
    assert.equal(await back, 'answer');
    // Too large for the peer's maxFrameLength: dropped, not fragmented.
    assert.equal(s.sendDatagram(dst, new Uint8Array(20_000)), false);
    await p.close();
  });

  it('a udp OPEN without the UDP capability gets OPEN_FAIL(NETWORK_NOT_SUPPORTED)', async () => {
    const udp = { network: Network.UDP, address: { addressType: AddressType.IPV4, host: '0.0.0.0', port: 0 } } as const;
    const p = makePair({ capabilities: Capability.UDP }, { capabilities: 0 });
    const err = await p.opener.connect(udp).catch((e: unknown) => e);
    assert.equal((err as { reason?: number }).reason, OpenFailReason.NETWORK_NOT_SUPPORTED);
    await p.close();
  });

  it('closing the session fails open streams with CLOSED on both sides', async () => {
    const p = makePair();
    const s = await p.opener.connect(TCP_REQUEST);
    const r = await p.nextAccepted();
    const pending = r.read();
    p.opener.close();
    await assert.rejects(s.read(), { code: ErrorCode.CLOSED });
    await assert.rejects(pending, { code: ErrorCode.CLOSED });
    assert.throws(() => p.opener.open(TCP_REQUEST), { code: ErrorCode.CLOSED });
    // The peer went away with a stream still open: not a clean close.
    assert.equal(((await p.acceptor.closed) as { code?: string }).code, ErrorCode.CLOSED);
  });
});

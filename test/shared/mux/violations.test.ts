import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../../shared/errors.ts';
import { createMemoryTransportPair, type MemoryTransport, type MemoryTransportOptions } from '../../../shared/mux/memory-transport.ts';
import { MuxSession } from '../../../shared/mux/session.ts';
import type { MuxSessionOptions } from '../../../shared/mux/options.ts';
import type { MuxStream } from '../../../shared/mux/stream.ts';
import { CloseCode, OpenFailReason } from '../../../shared/protocol/codes.ts';
import { AddressType, FrameType, Network } from '../../../shared/protocol/constants.ts';
import { decodeFrames } from '../../../shared/protocol/decode.ts';
import { encodeFrames } from '../../../shared/protocol/encode.ts';
import type { Frame } from '../../../shared/protocol/frame.ts';
import { makePair, settle, TCP_REQUEST } from './pair.ts';

const address = { addressType: AddressType.DOMAIN, host: 'example.com', port: 443 } as const;

/** A MuxSession facing a raw peer the test scripts frame by frame. */
function rawPeer(
  options: Omit<MuxSessionOptions, 'role'> & { role?: MuxSessionOptions['role'] } = {},
  transport: MemoryTransportOptions = {},
) {
  const [t, raw] = createMemoryTransportPair(transport);
  const received: Frame[] = [];
  const accepted: MuxStream[] = [];
  raw.onMessage((m) => received.push(...decodeFrames(m)));
  const session = new MuxSession(t, {
    keepaliveIntervalMs: 0,
    onOpen: (stream) => {
      stream.accept();
      accepted.push(stream);
    },
    ...options,
    role: options.role ?? 'acceptor',
    local: { streamWindow: 1000, sessionWindow: 3000, ...options.local },
  });
  return {
    session,
    raw: raw as MemoryTransport,
    local: t,
    received,
    accepted,
    send: (...frames: Frame[]) => raw.send(encodeFrames(frames)),
    ofType: (type: number) => received.filter((f) => f.type === type),
  };
}

const open = (streamId: number): Frame => ({ type: FrameType.OPEN, streamId, network: Network.TCP, address });
const data = (streamId: number, n: number): Frame => ({ type: FrameType.DATA, streamId, payload: new Uint8Array(n) });

describe('MuxSession peer violations', () => {
  it('DATA beyond the stream credit resets that stream with FLOW_CONTROL_ERROR, other streams carry on', async () => {
    const p = rawPeer();
    p.send(open(1), open(3), data(1, 1001));
    await settle();
    assert.deepEqual(p.ofType(FrameType.RESET), [{ type: FrameType.RESET, streamId: 1, code: CloseCode.FLOW_CONTROL_ERROR }]);
    await assert.rejects(p.accepted[0]!.read(), { code: ErrorCode.FLOW_CONTROL });
    p.send(data(3, 1000));
    await settle();
    assert.equal(p.accepted[1]!.readableLength, 1000);
    assert.equal(p.session.isClosed, false);
    p.session.close();
  });

  it('DATA beyond the session credit closes the session with GOAWAY(FLOW_CONTROL_ERROR)', async () => {
    const p = rawPeer();
    p.send(open(1), open(3), open(5), open(7), data(1, 1000), data(3, 1000), data(5, 1000), data(7, 1));
    const err = await p.session.closed;
    assert.equal((err as { code?: string }).code, ErrorCode.FLOW_CONTROL);
    await settle();
    assert.equal((p.ofType(FrameType.GOAWAY)[0] as { code: number }).code, CloseCode.FLOW_CONTROL_ERROR);
    assert.equal(p.raw.closed, true);
  });

  it('a frame for a stream that was never opened closes the session with PROTOCOL', async () => {
    const p = rawPeer();
    p.send(data(9, 1));
    const err = await p.session.closed;
    assert.equal((err as { code?: string }).code, ErrorCode.PROTOCOL);
    await settle();
    assert.equal((p.ofType(FrameType.GOAWAY)[0] as { code: number }).code, CloseCode.PROTOCOL_ERROR);
  });

  it('DATA after FIN resets the stream with STREAM_CLOSED', async () => {
    const p = rawPeer();
    p.send(open(1), data(1, 10), { type: FrameType.FIN, streamId: 1 }, data(1, 10));
    await settle();
    assert.deepEqual(p.ofType(FrameType.RESET), [{ type: FrameType.RESET, streamId: 1, code: CloseCode.STREAM_CLOSED }]);
    await assert.rejects(p.accepted[0]!.read(), { code: ErrorCode.PROTOCOL });
    assert.equal(p.session.isClosed, false);
    p.session.close();
  });

  it('DATA for a closed stream is answered with RESET(STREAM_CLOSED) and its session credit comes back', async () => {
    const p = rawPeer();
    p.send(open(1));
    await settle();
    p.accepted[0]!.reset();
    // 3 x 1000 bytes for the reset stream: the whole session window, returned at once.
    p.send(data(1, 1000), data(1, 1000), data(1, 1000));
    await settle();
    const resets = p.ofType(FrameType.RESET);
    assert.equal(resets.length, 4);
    const credit = p.ofType(FrameType.WINDOW).filter((f) => (f as { streamId: number }).streamId === 0);
    assert.equal(credit.reduce((n, f) => n + (f as { increment: number }).increment, 0), 3000);
    assert.equal(p.session.isClosed, false);
    p.session.close();
  });

  it('garbage closes only its own session, with the codec error code, and is never thrown', async () => {
    const bystander = makePair();
    const p = rawPeer();
    p.raw.send(new Uint8Array([0xff, 0, 0, 0, 0, 0, 0, 1]));
    const err = await p.session.closed;
    assert.equal((err as { code?: string }).code, ErrorCode.UNKNOWN_FRAME_TYPE);
    const q = rawPeer();
    q.raw.send(new Uint8Array([FrameType.DATA, 0, 0, 5, 0, 0, 0, 1, 1])); // truncated
    assert.equal(((await q.session.closed) as { code?: string }).code, ErrorCode.TRUNCATED);
    const s = await bystander.opener.connect(TCP_REQUEST);
    await s.write(new Uint8Array([1, 2, 3]));
    assert.deepEqual([...(await (await bystander.nextAccepted()).read())!], [1, 2, 3]);
    await bystander.close();
  });

  it('an OPEN with an even or reused id closes the session with PROTOCOL', async () => {
    const even = rawPeer();
    even.send(open(2));
    assert.equal(((await even.session.closed) as { code?: string }).code, ErrorCode.PROTOCOL);
    const reused = rawPeer();
    reused.send(open(5), open(3));
    assert.equal(((await reused.session.closed) as { code?: string }).code, ErrorCode.PROTOCOL);
  });

  it('an OPEN tag on a client session closes it with PROTOCOL; links accept it', async () => {
    const session = rawPeer();
    session.send({ ...open(1), tag: new Uint8Array([1, 2]) } as Frame);
    assert.equal(((await session.session.closed) as { code?: string }).code, ErrorCode.PROTOCOL);
    const link = rawPeer({ allowTags: true });
    link.send({ ...open(1), tag: new Uint8Array([1, 2]) } as Frame);
    await settle();
    assert.deepEqual([...link.accepted[0]!.request.tag!], [1, 2]);
    link.session.close();
  });

  it('a WINDOW that overflows the session credit closes the session with FLOW_CONTROL', async () => {
    const p = rawPeer({ role: 'opener', remote: { sessionWindow: 0x7fff_0000 } });
    p.send({ type: FrameType.WINDOW, streamId: 0, increment: 0x10000 });
    assert.equal(((await p.session.closed) as { code?: string }).code, ErrorCode.FLOW_CONTROL);
  });

  it('the opener treats an OPEN from the peer as a PROTOCOL violation', async () => {
    const p = rawPeer({ role: 'opener' });
    p.send(open(1));
    assert.equal(((await p.session.closed) as { code?: string }).code, ErrorCode.PROTOCOL);
  });

  it('the opener resets a stream that gets DATA before OPEN_OK', async () => {
    const p = rawPeer({ role: 'opener' });
    const s = p.session.open(TCP_REQUEST);
    await settle();
    p.send(data(1, 5));
    await assert.rejects(s.opened, { code: ErrorCode.PROTOCOL });
    await settle();
    assert.deepEqual(p.ofType(FrameType.RESET), [{ type: FrameType.RESET, streamId: 1, code: CloseCode.PROTOCOL_ERROR }]);
    p.session.close();
  });

  it('an onOpen callback that throws gets the stream refused, the session survives', async () => {
    const p = rawPeer({
      onOpen: () => {
        throw new Error('app bug');
      },
    });
    p.send(open(1));
    await settle();
    assert.deepEqual(p.ofType(FrameType.OPEN_FAIL), [{ type: FrameType.OPEN_FAIL, streamId: 1, reason: OpenFailReason.GENERAL_FAILURE }]);
    assert.equal(p.session.isClosed, false);
    p.session.close();
  });

  it('answers PING with a PONG echoing the opaque bytes', async () => {
    const p = rawPeer();
    const opaque = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    p.send({ type: FrameType.PING, opaque });
    await settle();
    assert.deepEqual([...(p.ofType(FrameType.PONG)[0] as { opaque: Uint8Array }).opaque], [...opaque]);
    p.session.close();
  });

  it('a peer that makes us answer while it does not read is cut off with BUFFER_LIMIT', async () => {
    const p = rawPeer({ maxControlQueue: 16 }, { highWaterMark: 64, lowWaterMark: 0 });
    // Our side's transport stops delivering: its send() soon reports "full".
    p.local.pause();
    const ping: Frame = { type: FrameType.PING, opaque: new Uint8Array(8) };
    for (let i = 0; i < 40 && !p.session.isClosed; i++) {
      p.send(ping, ping);
      await settle(1);
    }
    assert.equal(((await p.session.closed) as { code?: string }).code, ErrorCode.BUFFER_LIMIT);
  });
});

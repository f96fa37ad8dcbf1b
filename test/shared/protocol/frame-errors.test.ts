// Every refusal of the frame codec, each asserting its stable code (docs/protocol.md section 8).
// Inputs are hand-written hex from the documented layout.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, type ErrorCodeValue } from '../../../shared/errors.ts';
import {
  AddressType,
  CloseCode,
  decodeFrame,
  decodeFrames,
  encodeFrame,
  encodeFrameInto,
  FrameDecoder,
  FrameType,
  fromHex,
  Network,
  OpenFailReason,
  type Frame,
} from '../../../shared/protocol/index.ts';

function rejects(fn: () => unknown, code: ErrorCodeValue): void {
  assert.throws(fn, (err: unknown) => {
    assert.equal((err as { code?: unknown }).code, code);
    return true;
  });
}

/** The same bytes through the incremental decoder must fail with the same code. */
function incrementalFails(bytes: Uint8Array, code: ErrorCodeValue, maxFrameLength?: number): void {
  const d = new FrameDecoder(maxFrameLength === undefined ? {} : { maxFrameLength });
  d.push(bytes);
  while (d.next() !== undefined) {
    // drain the frames before the bad one
  }
  const err = d.error ?? d.end();
  assert.equal(err?.code, code);
  assert.equal(d.state, 'failed');
}

const decodeCases: { name: string; hex: string; code: ErrorCodeValue; max?: number }[] = [
  { name: 'an undefined frame type', hex: '0c 00 0000 00000000', code: ErrorCode.UNKNOWN_FRAME_TYPE },
  { name: 'the largest type byte', hex: 'ff 00 0000 00000001', code: ErrorCode.UNKNOWN_FRAME_TYPE },
  { name: 'an undefined flag bit', hex: '00 02 0000 00000001', code: ErrorCode.BAD_FRAME },
  { name: 'a length above maxFrameLength (header only)', hex: '00 00 4001 00000001', code: ErrorCode.FRAME_TOO_LARGE, max: 16384 },
  { name: 'a header cut short', hex: '00 00 0005 000000', code: ErrorCode.TRUNCATED },
  { name: 'a body cut short', hex: '00 00 0005 00000001 6869', code: ErrorCode.TRUNCATED },
  { name: 'a good frame followed by a partial one', hex: '05 00 0000 00000001 05', code: ErrorCode.TRUNCATED },
  { name: 'DATA on stream 0', hex: '00 00 0000 00000000', code: ErrorCode.BAD_FRAME },
  { name: 'OPEN on stream 0', hex: '01 00 0009 00000000 01 01 01020304 0050 00', code: ErrorCode.BAD_FRAME },
  { name: 'PING on stream 1', hex: '07 00 0008 00000001 0102030405060708', code: ErrorCode.BAD_FRAME },
  { name: 'GOAWAY on stream 3', hex: '0a 00 0005 00000003 00000000 00', code: ErrorCode.BAD_FRAME },
  { name: 'PADDING on stream 1', hex: '0b 00 0000 00000001', code: ErrorCode.BAD_FRAME },
  { name: 'PADDED with no room for the pad length', hex: '00 01 0001 00000001 00', code: ErrorCode.BAD_FRAME },
  { name: 'a pad length beyond the body', hex: '00 01 0004 00000001 0003 6162', code: ErrorCode.BAD_FRAME },
  { name: 'OPEN with network 3', hex: '01 00 0009 00000001 03 01 01020304 0050 00', code: ErrorCode.BAD_FRAME },
  { name: 'OPEN with address type 2', hex: '01 00 0009 00000001 01 02 01020304 0050 00', code: ErrorCode.BAD_FRAME },
  { name: 'OPEN with an empty domain', hex: '01 00 0006 00000001 01 03 00 0050 00', code: ErrorCode.BAD_FRAME },
  { name: 'OPEN with a domain that is not UTF-8', hex: '01 00 0008 00000001 01 03 02 c328 0050 00', code: ErrorCode.BAD_FRAME },
  { name: 'OPEN with an IPv6 address cut short', hex: '01 00 000b 00000001 01 04 2001 0db8 0000 0000 00', code: ErrorCode.BAD_FRAME },
  { name: 'OPEN without a tag length', hex: '01 00 0008 00000001 01 01 01020304 0050', code: ErrorCode.BAD_FRAME },
  { name: 'OPEN whose tag length disagrees with the body', hex: '01 00 000a 00000001 01 01 01020304 0050 02 aa', code: ErrorCode.BAD_FRAME },
  { name: 'OPEN with only a network byte', hex: '01 00 0001 00000001 01', code: ErrorCode.BAD_FRAME },
  { name: 'OPEN with an empty body', hex: '01 00 0000 00000001', code: ErrorCode.BAD_FRAME },
  { name: 'OPEN_OK with content', hex: '02 00 0001 00000001 00', code: ErrorCode.BAD_FRAME },
  { name: 'OPEN_FAIL without a reason', hex: '03 00 0000 00000001', code: ErrorCode.BAD_FRAME },
  { name: 'OPEN_FAIL with an undefined reason', hex: '03 00 0001 00000001 09', code: ErrorCode.BAD_FRAME },
  { name: 'WINDOW with a zero increment', hex: '04 00 0004 00000001 00000000', code: ErrorCode.BAD_FRAME },
  { name: 'WINDOW with an increment above 2^31-1', hex: '04 00 0004 00000000 80000000', code: ErrorCode.BAD_FRAME },
  { name: 'WINDOW with 3 content bytes', hex: '04 00 0003 00000000 000100', code: ErrorCode.BAD_FRAME },
  { name: 'FIN with content', hex: '05 00 0001 00000001 00', code: ErrorCode.BAD_FRAME },
  { name: 'RESET with an undefined code', hex: '06 00 0001 00000001 0c', code: ErrorCode.BAD_FRAME },
  { name: 'RESET with two content bytes', hex: '06 00 0002 00000001 0000', code: ErrorCode.BAD_FRAME },
  { name: 'PING with 7 opaque bytes', hex: '07 00 0007 00000000 01020304050607', code: ErrorCode.BAD_FRAME },
  { name: 'PONG with 9 opaque bytes', hex: '08 00 0009 00000000 010203040506070809', code: ErrorCode.BAD_FRAME },
  { name: 'DATAGRAM with an empty body', hex: '09 00 0000 00000005', code: ErrorCode.BAD_FRAME },
  { name: 'DATAGRAM with an IPv4 endpoint missing its port', hex: '09 00 0005 00000005 01 08080808', code: ErrorCode.BAD_FRAME },
  { name: 'DATAGRAM with a domain running past the body', hex: '09 00 0004 00000005 03 05 6162', code: ErrorCode.BAD_FRAME },
  { name: 'DATAGRAM with a domain length but no name', hex: '09 00 0001 00000005 03', code: ErrorCode.BAD_FRAME },
  { name: 'GOAWAY with an undefined code', hex: '0a 00 0005 00000000 00000001 ff', code: ErrorCode.BAD_FRAME },
  { name: 'GOAWAY without a code', hex: '0a 00 0004 00000000 00000001', code: ErrorCode.BAD_FRAME },
];

describe('frame decoding refuses malformed input with a stable code', () => {
  for (const c of decodeCases) {
    it(`decodeFrames() refuses ${c.name} with ${c.code}`, () => {
      rejects(() => decodeFrames(fromHex(c.hex), c.max), c.code);
    });
    it(`FrameDecoder reports ${c.name} as ${c.code} without throwing`, () => {
      incrementalFails(fromHex(c.hex), c.code, c.max);
    });
  }

  it('decodeFrame() checks the padded content exactly like unpadded content', () => {
    rejects(() => decodeFrame(fromHex('05 01 0003 00000001 0000 00')), ErrorCode.BAD_FRAME);
  });

  it('decodeFrame() reports a short buffer at an offset as TRUNCATED', () => {
    rejects(() => decodeFrame(fromHex('05 00 0000 00000001'), 1), ErrorCode.TRUNCATED);
  });

  it('decodeFrames() takes maxFrameLength from its caller', () => {
    const frame = fromHex('00 00 0003 00000001 616263');
    assert.equal(decodeFrames(frame, 3).length, 1);
    rejects(() => decodeFrames(frame, 2), ErrorCode.FRAME_TOO_LARGE);
  });
});

const ip4 = { addressType: AddressType.IPV4, host: '10.0.0.1', port: 80 } as const;

const encodeCases: { name: string; frame: Frame; code: ErrorCodeValue }[] = [
  { name: 'DATA on stream 0', frame: { type: FrameType.DATA, streamId: 0, payload: new Uint8Array(1) }, code: ErrorCode.BAD_FRAME },
  { name: 'a stream id above 2^32-1', frame: { type: FrameType.FIN, streamId: 2 ** 32 }, code: ErrorCode.BAD_FRAME },
  { name: 'a fractional stream id', frame: { type: FrameType.OPEN_OK, streamId: 1.5 }, code: ErrorCode.BAD_FRAME },
  { name: 'a negative pad', frame: { type: FrameType.FIN, streamId: 1, pad: -1 }, code: ErrorCode.BAD_FRAME },
  { name: 'a pad above 65535', frame: { type: FrameType.FIN, streamId: 1, pad: 65536 }, code: ErrorCode.BAD_FRAME },
  { name: 'WINDOW with increment 0', frame: { type: FrameType.WINDOW, streamId: 0, increment: 0 }, code: ErrorCode.BAD_FRAME },
  { name: 'WINDOW with increment 2^31', frame: { type: FrameType.WINDOW, streamId: 0, increment: 2 ** 31 }, code: ErrorCode.BAD_FRAME },
  { name: 'WINDOW with stream id -1', frame: { type: FrameType.WINDOW, streamId: -1, increment: 1 }, code: ErrorCode.BAD_FRAME },
  { name: 'PING with 4 opaque bytes', frame: { type: FrameType.PING, opaque: new Uint8Array(4) }, code: ErrorCode.BAD_FRAME },
  { name: 'OPEN_FAIL with an undefined reason', frame: { type: FrameType.OPEN_FAIL, streamId: 1, reason: 0x09 as typeof OpenFailReason.TIMEOUT }, code: ErrorCode.BAD_FRAME },
  { name: 'RESET with an undefined code', frame: { type: FrameType.RESET, streamId: 1, code: 0x40 as typeof CloseCode.CANCEL }, code: ErrorCode.BAD_FRAME },
  { name: 'GOAWAY with a negative last stream id', frame: { type: FrameType.GOAWAY, lastStreamId: -1, code: CloseCode.NO_ERROR }, code: ErrorCode.BAD_FRAME },
  { name: 'GOAWAY with an undefined code', frame: { type: FrameType.GOAWAY, lastStreamId: 1, code: 0x40 as typeof CloseCode.CANCEL }, code: ErrorCode.BAD_FRAME },
  { name: 'PADDING with a negative length', frame: { type: FrameType.PADDING, length: -1 }, code: ErrorCode.BAD_FRAME },
  { name: 'OPEN with network 0', frame: { type: FrameType.OPEN, streamId: 1, network: 0 as typeof Network.TCP, address: ip4 }, code: ErrorCode.BAD_FRAME },
  { name: 'OPEN with a 256-byte tag', frame: { type: FrameType.OPEN, streamId: 1, network: Network.TCP, address: ip4, tag: new Uint8Array(256) }, code: ErrorCode.BAD_FRAME },
  {
    name: 'OPEN to an IPv4 endpoint whose host is a name',
    frame: { type: FrameType.OPEN, streamId: 1, network: Network.TCP, address: { addressType: AddressType.IPV4, host: 'example.com', port: 80 } },
    code: ErrorCode.BAD_ADDRESS,
  },
  {
    name: 'OPEN to an IPv6 endpoint whose host is IPv4',
    frame: { type: FrameType.OPEN, streamId: 1, network: Network.TCP, address: { addressType: AddressType.IPV6, host: '1.2.3.4', port: 80 } },
    code: ErrorCode.BAD_ADDRESS,
  },
  {
    name: 'OPEN to a 256-byte domain',
    frame: { type: FrameType.OPEN, streamId: 1, network: Network.TCP, address: { addressType: AddressType.DOMAIN, host: 'a'.repeat(256), port: 80 } },
    code: ErrorCode.BAD_ADDRESS,
  },
  {
    name: 'OPEN to an empty domain',
    frame: { type: FrameType.OPEN, streamId: 1, network: Network.TCP, address: { addressType: AddressType.DOMAIN, host: '', port: 80 } },
    code: ErrorCode.BAD_ADDRESS,
  },
  {
    name: 'OPEN to a domain with a lone surrogate',
    frame: { type: FrameType.OPEN, streamId: 1, network: Network.TCP, address: { addressType: AddressType.DOMAIN, host: 'a\ud800b', port: 80 } },
    code: ErrorCode.BAD_ADDRESS,
  },
  {
    name: 'OPEN to port 65536',
    frame: { type: FrameType.OPEN, streamId: 1, network: Network.TCP, address: { ...ip4, port: 65536 } },
    code: ErrorCode.BAD_ADDRESS,
  },
  {
    name: 'DATAGRAM with an unknown address type',
    frame: { type: FrameType.DATAGRAM, streamId: 1, address: { addressType: 2 as typeof AddressType.IPV4, host: '1.2.3.4', port: 1 }, payload: new Uint8Array(0) },
    code: ErrorCode.BAD_ADDRESS,
  },
  { name: 'an undefined frame type', frame: { type: 0x0c } as unknown as Frame, code: ErrorCode.UNKNOWN_FRAME_TYPE },
];

describe('frame encoding refuses invalid frames with a stable code', () => {
  for (const c of encodeCases) {
    it(`encodeFrame() refuses ${c.name} with ${c.code}`, () => {
      rejects(() => encodeFrame(c.frame), c.code);
    });
  }

  it('encodeFrame() refuses a body above maxFrameLength with FRAME_TOO_LARGE', () => {
    rejects(() => encodeFrame({ type: FrameType.DATA, streamId: 1, payload: new Uint8Array(101) }, 100), ErrorCode.FRAME_TOO_LARGE);
    rejects(() => encodeFrame({ type: FrameType.PADDING, length: 65512 }), ErrorCode.FRAME_TOO_LARGE);
  });

  it('encodeFrameInto() refuses an output without room with BUFFER_LIMIT and writes nothing', () => {
    const out = new Uint8Array(10);
    rejects(() => encodeFrameInto({ type: FrameType.PING, opaque: new Uint8Array(8) }, out, 0), ErrorCode.BUFFER_LIMIT);
    assert.deepEqual(out, new Uint8Array(10));
    assert.equal(encodeFrameInto({ type: FrameType.FIN, streamId: 1 }, out, 2), 10);
  });
});

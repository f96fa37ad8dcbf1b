// Fixed byte vectors for every frame type, written by hand from the tables of docs/protocol.md
// section 2 (header: type u8, flags u8, length u16, stream id u32; big-endian), never produced
// by the encoder under test. Each vector is checked both ways: encode -> bytes, bytes -> frame.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AddressType,
  CloseCode,
  decodeFrames,
  encodeFrame,
  encodeFrames,
  FrameType,
  fromHex,
  Network,
  OpenFailReason,
  toHex,
  type Frame,
} from '../../../shared/protocol/index.ts';

const te = new TextEncoder();
const opaque = fromHex('0102030405060708');

const vectors: { name: string; frame: Frame; hex: string }[] = [
  {
    name: 'DATA with a 5-byte payload',
    frame: { type: FrameType.DATA, streamId: 1, payload: te.encode('hello') },
    hex: '00 00 0005 00000001 68656c6c6f',
  },
  {
    name: 'DATA with an empty payload',
    frame: { type: FrameType.DATA, streamId: 5, payload: new Uint8Array(0) },
    hex: '00 00 0000 00000005',
  },
  {
    name: 'DATA padded with 3 bytes',
    frame: { type: FrameType.DATA, streamId: 0x01020304, payload: te.encode('ab'), pad: 3 },
    hex: '00 01 0007 01020304 0003 6162 000000',
  },
  {
    name: 'OPEN tcp to an IPv4 address',
    frame: {
      type: FrameType.OPEN,
      streamId: 1,
      network: Network.TCP,
      address: { addressType: AddressType.IPV4, host: '93.184.216.34', port: 443 },
    },
    hex: '01 00 0009 00000001 01 01 5db8d822 01bb 00',
  },
  {
    name: 'OPEN tcp to a domain',
    frame: {
      type: FrameType.OPEN,
      streamId: 3,
      network: Network.TCP,
      address: { addressType: AddressType.DOMAIN, host: 'example.com', port: 80 },
    },
    hex: '01 00 0011 00000003 01 03 0b 6578616d706c652e636f6d 0050 00',
  },
  {
    name: 'OPEN udp to an IPv6 address with an origin tag',
    frame: {
      type: FrameType.OPEN,
      streamId: 5,
      network: Network.UDP,
      address: { addressType: AddressType.IPV6, host: '2001:db8::1', port: 53 },
      tag: te.encode('h1'),
    },
    hex: '01 00 0017 00000005 02 04 20010db8000000000000000000000001 0035 02 6831',
  },
  {
    name: 'OPEN_OK',
    frame: { type: FrameType.OPEN_OK, streamId: 1 },
    hex: '02 00 0000 00000001',
  },
  {
    name: 'OPEN_FAIL connection refused',
    frame: { type: FrameType.OPEN_FAIL, streamId: 7, reason: OpenFailReason.CONNECTION_REFUSED },
    hex: '03 00 0001 00000007 05',
  },
  {
    name: 'OPEN_FAIL DNS failure',
    frame: { type: FrameType.OPEN_FAIL, streamId: 9, reason: OpenFailReason.DNS_FAILURE },
    hex: '03 00 0001 00000009 11',
  },
  {
    name: 'WINDOW on the session (stream 0)',
    frame: { type: FrameType.WINDOW, streamId: 0, increment: 65536 },
    hex: '04 00 0004 00000000 00010000',
  },
  {
    name: 'WINDOW on a stream with the largest increment',
    frame: { type: FrameType.WINDOW, streamId: 9, increment: 0x7fffffff },
    hex: '04 00 0004 00000009 7fffffff',
  },
  {
    name: 'FIN',
    frame: { type: FrameType.FIN, streamId: 1 },
    hex: '05 00 0000 00000001',
  },
  {
    name: 'RESET cancel on a high stream id',
    frame: { type: FrameType.RESET, streamId: 0xfffffffd, code: CloseCode.CANCEL },
    hex: '06 00 0001 fffffffd 05',
  },
  {
    name: 'PING',
    frame: { type: FrameType.PING, opaque },
    hex: '07 00 0008 00000000 0102030405060708',
  },
  {
    name: 'PING padded with 2 bytes',
    frame: { type: FrameType.PING, opaque, pad: 2 },
    hex: '07 01 000c 00000000 0002 0102030405060708 0000',
  },
  {
    name: 'PONG',
    frame: { type: FrameType.PONG, opaque },
    hex: '08 00 0008 00000000 0102030405060708',
  },
  {
    name: 'DATAGRAM from an IPv4 source',
    frame: {
      type: FrameType.DATAGRAM,
      streamId: 5,
      address: { addressType: AddressType.IPV4, host: '8.8.8.8', port: 53 },
      payload: fromHex('abcd'),
    },
    hex: '09 00 0009 00000005 01 08080808 0035 abcd',
  },
  {
    name: 'DATAGRAM to a domain with an empty payload',
    frame: {
      type: FrameType.DATAGRAM,
      streamId: 5,
      address: { addressType: AddressType.DOMAIN, host: 'a.io', port: 0 },
      payload: new Uint8Array(0),
    },
    hex: '09 00 0008 00000005 03 04 612e696f 0000',
  },
  {
    name: 'GOAWAY no error',
    frame: { type: FrameType.GOAWAY, lastStreamId: 99, code: CloseCode.NO_ERROR },
    hex: '0a 00 0005 00000000 00000063 00',
  },
  {
    name: 'GOAWAY policy',
    frame: { type: FrameType.GOAWAY, lastStreamId: 0, code: CloseCode.POLICY },
    hex: '0a 00 0005 00000000 00000000 09',
  },
  {
    name: 'PADDING of 4 bytes',
    frame: { type: FrameType.PADDING, length: 4 },
    hex: '0b 00 0004 00000000 00000000',
  },
];

describe('frame vectors (docs/protocol.md section 2)', () => {
  for (const v of vectors) {
    it(`encodes ${v.name} to the documented bytes`, () => {
      assert.equal(toHex(encodeFrame(v.frame)), v.hex.replace(/\s+/g, ''));
    });
    it(`decodes the documented bytes of ${v.name}`, () => {
      assert.deepEqual(decodeFrames(fromHex(v.hex)), [v.frame]);
    });
  }

  it('covers every frame type', () => {
    const covered = new Set(vectors.map((v) => v.frame.type));
    assert.deepEqual([...covered].sort((a, b) => a - b), Object.values(FrameType).sort((a, b) => a - b));
  });

  it('puts several frames back to back in one message', () => {
    const hex = vectors.map((v) => v.hex.replace(/\s+/g, '')).join('');
    assert.equal(toHex(encodeFrames(vectors.map((v) => v.frame))), hex);
    assert.deepEqual(decodeFrames(fromHex(hex)), vectors.map((v) => v.frame));
  });

  it('ignores the content of padding bytes on decode', () => {
    const frames = decodeFrames(fromHex('00 01 0007 01020304 0003 6162 ffeedd  0b 00 0002 00000000 abcd'));
    assert.deepEqual(frames, [
      { type: FrameType.DATA, streamId: 0x01020304, payload: te.encode('ab'), pad: 3 },
      { type: FrameType.PADDING, length: 2 },
    ]);
  });

  it('decodes PADDED with a zero pad length as pad 0', () => {
    assert.deepEqual(decodeFrames(fromHex('05 01 0002 00000001 0000')), [{ type: FrameType.FIN, streamId: 1, pad: 0 }]);
  });

  it('returns payloads as views of the input, not copies', () => {
    const msg = fromHex('00 00 0002 00000001 abcd');
    const [frame] = decodeFrames(msg);
    assert.equal(frame?.type, FrameType.DATA);
    if (frame?.type !== FrameType.DATA) return;
    assert.equal(frame.payload.buffer, msg.buffer);
    assert.equal(frame.payload.byteOffset, 8);
  });

  it('decodes an empty message as no frames', () => {
    assert.deepEqual(decodeFrames(new Uint8Array(0)), []);
  });
});

// Hello (handshake payload) vectors written by hand from docs/protocol.md section 4.1, and every
// refusal with its code.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, type ErrorCodeValue } from '../../../shared/errors.ts';
import {
  Capability,
  decodeHello,
  encodeHello,
  fromHex,
  HELLO_FIXED_LENGTH,
  isFreshTimestamp,
  MAX_HELLO_LENGTH,
  negotiate,
  PaddingPolicy,
  Role,
  toHex,
  type Hello,
} from '../../../shared/protocol/index.ts';

function rejects(fn: () => unknown, code: ErrorCodeValue): void {
  assert.throws(fn, (err: unknown) => {
    assert.equal((err as { code?: unknown }).code, code);
    return true;
  });
}

const clientHello: Hello = {
  role: Role.CLIENT,
  paddingPolicy: PaddingPolicy.BUCKETS,
  capabilities: Capability.UDP,
  timestamp: 1_700_000_000_000,
  maxFrameLength: 16384,
  streamWindow: 262144,
  sessionWindow: 1048576,
  maxStreams: 512,
  nodeId: '',
  region: 'eu-west',
  padding: 4,
};

const vectors: { name: string; hello: Hello; hex: string }[] = [
  {
    name: 'client hello (IK message 1) with a preferred region and padding',
    hello: clientHello,
    hex:
      '01 01 02 00 00000001 0000018b cfe56800 4000 00040000 00100000 00000200' +
      ' 00 07 65752d77657374 0004 00000000',
  },
  {
    name: 'handler hello to a client (IK message 2)',
    hello: {
      role: Role.HANDLER,
      paddingPolicy: PaddingPolicy.NONE,
      capabilities: Capability.UDP,
      timestamp: 1_700_000_000_123,
      maxFrameLength: 65511,
      streamWindow: 262144,
      sessionWindow: 1048576,
      maxStreams: 512,
      nodeId: '',
      region: '',
    },
    hex: '01 02 00 00 00000001 0000018b cfe5687b ffe7 00040000 00100000 00000200 00 00 0000',
  },
  {
    name: 'exit hello on a link (KK) at the limits of every field',
    hello: {
      role: Role.EXIT,
      paddingPolicy: PaddingPolicy.NONE,
      capabilities: 0xffffffff,
      timestamp: Number.MAX_SAFE_INTEGER,
      maxFrameLength: 1024,
      streamWindow: 0,
      sessionWindow: 0x7fffffff,
      maxStreams: 0xffffffff,
      nodeId: 'exit-1',
      region: 'ap',
    },
    hex: '01 03 00 00 ffffffff 001fffff ffffffff 0400 00000000 7fffffff ffffffff 06 657869742d31 02 6170 0000',
  },
  {
    name: 'handler hello on a link (KK)',
    hello: {
      role: Role.HANDLER,
      paddingPolicy: PaddingPolicy.RANDOM,
      capabilities: 0,
      timestamp: 0,
      maxFrameLength: 16384,
      streamWindow: 262144,
      sessionWindow: 16777216,
      maxStreams: 16384,
      nodeId: 'h1',
      region: '',
    },
    hex: '01 02 01 00 00000000 00000000 00000000 4000 00040000 01000000 00004000 02 6831 00 0000',
  },
];

describe('hello vectors (docs/protocol.md section 4.1)', () => {
  for (const v of vectors) {
    it(`encodes the ${v.name} to the documented bytes`, () => {
      assert.equal(toHex(encodeHello(v.hello)), v.hex.replace(/\s+/g, ''));
    });
    it(`decodes the documented bytes of the ${v.name}`, () => {
      assert.deepEqual(decodeHello(fromHex(v.hex)), v.hello);
    });
  }

  it('has a fixed part of 34 bytes', () => {
    assert.equal(fromHex(vectors[1]!.hex).length, HELLO_FIXED_LENGTH);
  });

  it('decodes a hello that sits at an offset inside a larger buffer', () => {
    const inner = fromHex(vectors[0]!.hex);
    const outer = new Uint8Array(inner.length + 7);
    outer.set(inner, 5);
    assert.deepEqual(decodeHello(outer.subarray(5, 5 + inner.length)), clientHello);
  });
});

/** The 34-byte handler hello above, patched at `offset` with `hex`. */
function patched(offset: number, hex: string): Uint8Array {
  const b = fromHex(vectors[1]!.hex);
  b.set(fromHex(hex), offset);
  return b;
}

describe('decodeHello() refuses malformed payloads with a stable code', () => {
  const base = vectors[1]!.hex.replace(/\s+/g, '');
  const cases: { name: string; bytes: Uint8Array; code: ErrorCodeValue }[] = [
    { name: 'a payload shorter than the fixed part', bytes: fromHex(base).subarray(0, 33), code: ErrorCode.TRUNCATED },
    { name: 'version 2', bytes: patched(0, '02'), code: ErrorCode.HANDSHAKE },
    { name: 'role 0', bytes: patched(1, '00'), code: ErrorCode.HANDSHAKE },
    { name: 'role 4', bytes: patched(1, '04'), code: ErrorCode.HANDSHAKE },
    { name: 'padding policy 3', bytes: patched(2, '03'), code: ErrorCode.HANDSHAKE },
    { name: 'a non-zero reserved byte', bytes: patched(3, '01'), code: ErrorCode.HANDSHAKE },
    { name: 'a timestamp above 2^53 - 1', bytes: patched(8, '00200000'), code: ErrorCode.HANDSHAKE },
    { name: 'maxFrameLength 1023', bytes: patched(16, '03ff'), code: ErrorCode.HANDSHAKE },
    { name: 'maxFrameLength 65512', bytes: patched(16, 'ffe8'), code: ErrorCode.HANDSHAKE },
    { name: 'a stream window of 2^31', bytes: patched(18, '80000000'), code: ErrorCode.HANDSHAKE },
    { name: 'a session window of 2^31', bytes: patched(22, '80000000'), code: ErrorCode.HANDSHAKE },
    { name: 'a nodeId length of 65', bytes: patched(30, '41'), code: ErrorCode.HANDSHAKE },
    { name: 'a nodeId running past the end', bytes: patched(30, '05'), code: ErrorCode.TRUNCATED },
    { name: 'a region that is not UTF-8', bytes: fromHex(base.slice(0, 60) + '00 01 ff 0000'), code: ErrorCode.HANDSHAKE },
    { name: 'a nodeId that is not UTF-8', bytes: fromHex(base.slice(0, 60) + '02 c328 00 0000'), code: ErrorCode.HANDSHAKE },
    { name: 'an end before the padding length', bytes: fromHex(base.slice(0, 60) + '02 6162 00 00'), code: ErrorCode.TRUNCATED },
    { name: 'an end before the region length', bytes: fromHex(base.slice(0, 60) + '03 616263'), code: ErrorCode.TRUNCATED },
    { name: 'padding running past the end', bytes: patched(32, '0005'), code: ErrorCode.TRUNCATED },
    { name: 'a byte after the padding', bytes: fromHex(base + '00'), code: ErrorCode.HANDSHAKE },
  ];
  for (const c of cases) {
    it(`refuses ${c.name} with ${c.code}`, () => {
      rejects(() => decodeHello(c.bytes), c.code);
    });
  }
});

describe('encodeHello() refuses out-of-range fields with BAD_CONFIG', () => {
  const cases: [string, Partial<Record<keyof Hello, unknown>>][] = [
    ['role 4', { role: 4 }],
    ['padding policy 9', { paddingPolicy: 9 }],
    ['negative capabilities', { capabilities: -1 }],
    ['a negative timestamp', { timestamp: -1 }],
    ['an unsafe timestamp', { timestamp: 2 ** 53 }],
    ['maxFrameLength 1023', { maxFrameLength: 1023 }],
    ['maxFrameLength 65512', { maxFrameLength: 65512 }],
    ['a stream window of 2^31', { streamWindow: 2 ** 31 }],
    ['a negative session window', { sessionWindow: -1 }],
    ['maxStreams of 2^32', { maxStreams: 2 ** 32 }],
    ['a 65-byte nodeId', { nodeId: 'n'.repeat(65) }],
    ['a 66-byte region', { region: '\u00e9'.repeat(33) }],
    ['negative padding', { padding: -1 }],
    ['padding past the largest hello', { padding: MAX_HELLO_LENGTH - HELLO_FIXED_LENGTH - 6 }],
  ];
  for (const [name, patch] of cases) {
    it(`refuses ${name}`, () => {
      rejects(() => encodeHello({ ...clientHello, ...patch } as Hello), ErrorCode.BAD_CONFIG);
    });
  }

  it('accepts padding up to the largest hello exactly', () => {
    const hello = { ...clientHello, padding: MAX_HELLO_LENGTH - HELLO_FIXED_LENGTH - 7 };
    const bytes = encodeHello(hello);
    assert.equal(bytes.length, MAX_HELLO_LENGTH);
    assert.deepEqual(decodeHello(bytes), hello);
  });
});

describe('replay window and negotiation', () => {
  it('isFreshTimestamp() accepts up to 30 s of skew either way, inclusive', () => {
    const now = 1_700_000_000_000;
    assert.ok(isFreshTimestamp(now, now));
    assert.ok(isFreshTimestamp(now - 30_000, now));
    assert.ok(isFreshTimestamp(now + 30_000, now));
    assert.ok(!isFreshTimestamp(now - 30_001, now));
    assert.ok(!isFreshTimestamp(now + 30_001, now));
    assert.ok(isFreshTimestamp(now + 5_000, now, 5_000));
    assert.ok(!isFreshTimestamp(now + 5_001, now, 5_000));
  });

  it('negotiate() takes send limits from the peer and ANDs the capabilities', () => {
    const handler = decodeHello(fromHex(vectors[1]!.hex));
    const exit = decodeHello(fromHex(vectors[2]!.hex));
    assert.deepEqual(negotiate(clientHello, handler), {
      sendMaxFrameLength: 65511,
      sendStreamWindow: 262144,
      sendSessionWindow: 1048576,
      sendMaxStreams: 512,
      capabilities: Capability.UDP,
      sendPaddingPolicy: PaddingPolicy.NONE,
    });
    assert.deepEqual(negotiate(handler, clientHello).sendPaddingPolicy, PaddingPolicy.BUCKETS);
    assert.equal(negotiate(vectors[3]!.hello, exit).capabilities, 0);
    assert.equal(negotiate(exit, { ...exit }).capabilities, 0xffffffff);
  });
});

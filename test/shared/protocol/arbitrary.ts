// Seeded generators of valid frames, for round-trip tests and the fuzzer. Every field range the
// codec accepts is reachable, including the edges (stream id 2^32-1, empty payloads, 255-byte
// domains and tags, maximal windows).
import type { Prng } from '../../support/prng.ts';
import {
  AddressType,
  CloseCode,
  formatIPv4,
  formatIPv6,
  FrameType,
  MAX_WINDOW,
  Network,
  OpenFailReason,
  type Endpoint,
  type Frame,
} from '../../../shared/protocol/index.ts';

const closeCodes = Object.values(CloseCode);
const openFailReasons = Object.values(OpenFailReason);
const domainChars = 'abcdefghijklmnopqrstuvwxyz0123456789-.';
const unicode = ['\u00e9', '\u4e2d', '\u{1f600}', 'x'];

function streamId(rng: Prng): number {
  return rng.chance(0.1) ? 0xffffffff : rng.chance(0.5) ? rng.int(1, 100) : rng.int(1, 0xffffffff);
}

function domain(rng: Prng): string {
  if (rng.chance(0.05)) return 'a'.repeat(255);
  let s = '';
  const n = rng.int(1, 40);
  for (let i = 0; i < n; i++) s += rng.chance(0.05) ? rng.pick(unicode) : domainChars[rng.int(0, domainChars.length - 1)];
  return s;
}

/** A random valid endpoint. */
export function randomEndpoint(rng: Prng): Endpoint {
  const port = rng.chance(0.1) ? rng.pick([0, 65535]) : rng.int(0, 65535);
  switch (rng.int(0, 2)) {
    case 0:
      return { addressType: AddressType.IPV4, host: formatIPv4(rng.bytes(4)), port };
    case 1: {
      const b = rng.bytes(16);
      // Zero runs exercise the "::" compression.
      if (rng.chance(0.5)) b.fill(0, rng.int(0, 15), rng.int(0, 16));
      return { addressType: AddressType.IPV6, host: formatIPv6(b), port };
    }
    default:
      return { addressType: AddressType.DOMAIN, host: domain(rng), port };
  }
}

function payload(rng: Prng, max: number): Uint8Array {
  return rng.bytes(rng.chance(0.1) ? 0 : rng.int(0, max));
}

/** A random valid frame with payloads up to `maxPayload` bytes; encodes within 16384 bytes. */
export function randomFrame(rng: Prng, maxPayload = 512): Frame {
  let frame: Frame;
  switch (rng.int(0, 11)) {
    case FrameType.DATA:
      frame = { type: FrameType.DATA, streamId: streamId(rng), payload: payload(rng, maxPayload) };
      break;
    case FrameType.OPEN:
      frame = {
        type: FrameType.OPEN,
        streamId: streamId(rng),
        network: rng.pick([Network.TCP, Network.UDP]),
        address: randomEndpoint(rng),
      };
      if (rng.chance(0.3)) frame.tag = rng.bytes(rng.chance(0.1) ? 255 : rng.int(1, 40));
      break;
    case FrameType.OPEN_OK:
      frame = { type: FrameType.OPEN_OK, streamId: streamId(rng) };
      break;
    case FrameType.OPEN_FAIL:
      frame = { type: FrameType.OPEN_FAIL, streamId: streamId(rng), reason: rng.pick(openFailReasons) };
      break;
    case FrameType.WINDOW:
      frame = {
        type: FrameType.WINDOW,
        streamId: rng.chance(0.3) ? 0 : streamId(rng),
        increment: rng.chance(0.1) ? MAX_WINDOW : rng.int(1, 1 << 20),
      };
      break;
    case FrameType.FIN:
      frame = { type: FrameType.FIN, streamId: streamId(rng) };
      break;
    case FrameType.RESET:
      frame = { type: FrameType.RESET, streamId: streamId(rng), code: rng.pick(closeCodes) };
      break;
    case FrameType.PING:
      frame = { type: FrameType.PING, opaque: rng.bytes(8) };
      break;
    case FrameType.PONG:
      frame = { type: FrameType.PONG, opaque: rng.bytes(8) };
      break;
    case FrameType.DATAGRAM:
      frame = { type: FrameType.DATAGRAM, streamId: streamId(rng), address: randomEndpoint(rng), payload: payload(rng, maxPayload) };
      break;
    case FrameType.GOAWAY:
      frame = { type: FrameType.GOAWAY, lastStreamId: rng.int(0, 0xffffffff), code: rng.pick(closeCodes) };
      break;
    default:
      frame = { type: FrameType.PADDING, length: rng.int(0, 64) };
      break;
  }
  if (rng.chance(0.25)) frame.pad = rng.chance(0.1) ? 0 : rng.int(1, 64);
  return frame;
}

/** Several random frames. */
export function randomFrames(rng: Prng, count: number, maxPayload = 512): Frame[] {
  const out: Frame[] = [];
  for (let i = 0; i < count; i++) out.push(randomFrame(rng, maxPayload));
  return out;
}

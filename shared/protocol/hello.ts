/**
 * The hello: the payload of every Noise handshake message (docs/protocol.md section 4). Client
 * sessions (IK) and handler<->exit links (KK) use the same layout; `role` says who speaks.
 * Each side states what it ACCEPTS (max frame body, initial receive windows, stream cap), so
 * the peer learns its send limits from the hello it receives.
 */
import { codedError, ErrorCode } from '../errors.ts';
import { MAX_FRAME_LENGTH, MAX_WINDOW, MIN_FRAME_LENGTH, PROTOCOL_VERSION } from './constants.ts';

/** Who sent a hello. */
export const Role = {
  CLIENT: 1,
  HANDLER: 2,
  EXIT: 3,
} as const;

/** One of the Role values. */
export type RoleValue = (typeof Role)[keyof typeof Role];

/** How the sender of a hello wants the peer to pad traffic sent to it (docs/protocol.md 2.3). */
export const PaddingPolicy = {
  /** No padding. */
  NONE: 0,
  /** Pad each message by a random 0-255 bytes. */
  RANDOM: 1,
  /** Pad each message up to the next of 256, 1024, 4096, 16384 or 65519 bytes. */
  BUCKETS: 2,
} as const;

/** One of the PaddingPolicy values. */
export type PaddingPolicyValue = (typeof PaddingPolicy)[keyof typeof PaddingPolicy];

/** Capability bits; the session has the AND of both hellos, unknown bits are ignored. */
export const Capability = {
  /** DATAGRAM frames and OPEN with network udp. */
  UDP: 0x0000_0001,
} as const;

/** Bytes of a hello with empty strings and no padding. */
export const HELLO_FIXED_LENGTH = 34;

/** Longest nodeId and region, in UTF-8 bytes. */
export const MAX_HELLO_STRING = 64;

/** Largest hello: a Noise message of 65535 bytes less IK message 1's e, s and two tags (96). */
export const MAX_HELLO_LENGTH = 65535 - 96;

/** Accepted clock difference for a hello timestamp, either way (docs/architecture.md 3). */
export const HANDSHAKE_MAX_SKEW_MS = 30_000;

/** A decoded or to-be-encoded hello. */
export interface Hello {
  role: RoleValue;
  /** Padding the sender asks the peer to apply to messages sent to it. */
  paddingPolicy: PaddingPolicyValue;
  /** Capability bits (Capability). */
  capabilities: number;
  /** Sender's clock, milliseconds since the Unix epoch. */
  timestamp: number;
  /** Largest frame body the sender accepts (MIN_FRAME_LENGTH-MAX_FRAME_LENGTH). */
  maxFrameLength: number;
  /** Initial receive window the sender grants every new stream. */
  streamWindow: number;
  /** Initial session-level (stream 0) receive window the sender grants. */
  sessionWindow: number;
  /** Most concurrently open streams the sender accepts from the peer. */
  maxStreams: number;
  /** Handler node id or exit id on links; empty on client sessions. */
  nodeId: string;
  /** Client: preferred exit region; exit: its region; otherwise empty. */
  region: string;
  /** Padding bytes appended to hide the hello's size; present on decode only when > 0. */
  padding?: number;
}

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });
const ROLES = new Set<number>(Object.values(Role));
const POLICIES = new Set<number>(Object.values(PaddingPolicy));

function config(message: string): Error {
  return codedError(RangeError, ErrorCode.BAD_CONFIG, message);
}

function checkU32(name: string, n: number, max = 0xffff_ffff): void {
  if (!Number.isInteger(n) || n < 0 || n > max) throw config(`Hello ${name} must be an integer 0-${max}, got ${n}`);
}

function encodeString(name: string, s: string): Uint8Array {
  const b = utf8.encode(s);
  if (b.length > MAX_HELLO_STRING) throw config(`Hello ${name} must be at most ${MAX_HELLO_STRING} bytes of UTF-8, got ${b.length}`);
  return b;
}

/** Encodes a hello; throws BAD_CONFIG naming the field that is out of range. */
export function encodeHello(h: Hello): Uint8Array {
  if (!ROLES.has(h.role)) throw config(`Hello role must be 1-3, got ${h.role}`);
  if (!POLICIES.has(h.paddingPolicy)) throw config(`Hello paddingPolicy must be 0-2, got ${h.paddingPolicy}`);
  checkU32('capabilities', h.capabilities);
  if (!Number.isSafeInteger(h.timestamp) || h.timestamp < 0) {
    throw config(`Hello timestamp must be a non-negative safe integer, got ${h.timestamp}`);
  }
  if (!Number.isInteger(h.maxFrameLength) || h.maxFrameLength < MIN_FRAME_LENGTH || h.maxFrameLength > MAX_FRAME_LENGTH) {
    throw config(`Hello maxFrameLength must be an integer ${MIN_FRAME_LENGTH}-${MAX_FRAME_LENGTH}, got ${h.maxFrameLength}`);
  }
  checkU32('streamWindow', h.streamWindow, MAX_WINDOW);
  checkU32('sessionWindow', h.sessionWindow, MAX_WINDOW);
  checkU32('maxStreams', h.maxStreams);
  const nodeId = encodeString('nodeId', h.nodeId);
  const region = encodeString('region', h.region);
  const padding = h.padding ?? 0;
  const total = HELLO_FIXED_LENGTH + nodeId.length + region.length + padding;
  if (!Number.isInteger(padding) || padding < 0 || padding > 0xffff || total > MAX_HELLO_LENGTH) {
    throw config(`Hello padding must be an integer that keeps the hello within ${MAX_HELLO_LENGTH} bytes, got ${padding}`);
  }
  const out = new Uint8Array(total);
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  v.setUint8(0, PROTOCOL_VERSION);
  v.setUint8(1, h.role);
  v.setUint8(2, h.paddingPolicy);
  v.setUint8(3, 0);
  v.setUint32(4, h.capabilities);
  v.setUint32(8, Math.floor(h.timestamp / 2 ** 32));
  v.setUint32(12, h.timestamp >>> 0);
  v.setUint16(16, h.maxFrameLength);
  v.setUint32(18, h.streamWindow);
  v.setUint32(22, h.sessionWindow);
  v.setUint32(26, h.maxStreams);
  let o = 30;
  out[o++] = nodeId.length;
  out.set(nodeId, o);
  o += nodeId.length;
  out[o++] = region.length;
  out.set(region, o);
  o += region.length;
  v.setUint16(o, padding);
  // Padding bytes stay zero: they are encrypted, so their content hides nothing more.
  return out;
}

function hs(message: string, cause?: unknown): Error {
  return codedError(SyntaxError, ErrorCode.HANDSHAKE, message, cause);
}

function short(message: string): Error {
  return codedError(RangeError, ErrorCode.TRUNCATED, message);
}

function decodeString(name: string, b: Uint8Array, o: number): [string, number] {
  if (o >= b.length) throw short(`Hello ends before its ${name} length`);
  const n = b[o]!;
  if (n > MAX_HELLO_STRING) throw hs(`Hello ${name} length ${n} exceeds ${MAX_HELLO_STRING}`);
  if (b.length - o - 1 < n) throw short(`Hello ends inside its ${name}`);
  try {
    return [utf8Strict.decode(b.subarray(o + 1, o + 1 + n)), o + 1 + n];
  } catch (cause) {
    throw hs(`Hello ${name} must be valid UTF-8`, cause);
  }
}

/**
 * Decodes a hello. Throws TRUNCATED when the payload ends early and HANDSHAKE for any value
 * out of range, an unknown version, role or padding policy, or bytes after the padding.
 */
export function decodeHello(payload: Uint8Array): Hello {
  if (payload.length < HELLO_FIXED_LENGTH) throw short(`Hello needs at least ${HELLO_FIXED_LENGTH} bytes, got ${payload.length}`);
  const v = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const version = v.getUint8(0);
  if (version !== PROTOCOL_VERSION) throw hs(`Hello version ${version} is not ${PROTOCOL_VERSION}`);
  const role = v.getUint8(1);
  if (!ROLES.has(role)) throw hs(`Hello role ${role} is not 1-3`);
  const paddingPolicy = v.getUint8(2);
  if (!POLICIES.has(paddingPolicy)) throw hs(`Hello padding policy ${paddingPolicy} is not 0-2`);
  if (v.getUint8(3) !== 0) throw hs('Hello reserved byte must be 0');
  const capabilities = v.getUint32(4);
  const hi = v.getUint32(8);
  // Above 2^53 - 1 the millisecond count is no longer exact in a JS number.
  if (hi > 0x1f_ffff) throw hs('Hello timestamp exceeds 2^53 - 1');
  const timestamp = hi * 2 ** 32 + v.getUint32(12);
  const maxFrameLength = v.getUint16(16);
  if (maxFrameLength < MIN_FRAME_LENGTH || maxFrameLength > MAX_FRAME_LENGTH) {
    throw hs(`Hello maxFrameLength ${maxFrameLength} is not ${MIN_FRAME_LENGTH}-${MAX_FRAME_LENGTH}`);
  }
  const streamWindow = v.getUint32(18);
  const sessionWindow = v.getUint32(22);
  if (streamWindow > MAX_WINDOW || sessionWindow > MAX_WINDOW) throw hs(`Hello windows must be at most ${MAX_WINDOW}`);
  const maxStreams = v.getUint32(26);
  const [nodeId, o1] = decodeString('nodeId', payload, 30);
  const [region, o2] = decodeString('region', payload, o1);
  if (payload.length - o2 < 2) throw short('Hello ends before its padding length');
  const padding = v.getUint16(o2);
  const end = o2 + 2 + padding;
  if (end > payload.length) throw short(`Hello padding of ${padding} bytes runs past the end`);
  if (end !== payload.length) throw hs(`Hello has ${payload.length - end} bytes after its padding`);
  const hello: Hello = {
    role: role as RoleValue,
    paddingPolicy: paddingPolicy as PaddingPolicyValue,
    capabilities,
    timestamp,
    maxFrameLength,
    streamWindow,
    sessionWindow,
    maxStreams,
    nodeId,
    region,
  };
  if (padding > 0) hello.padding = padding;
  return hello;
}

/** True when `timestamp` is within `maxSkewMs` of `now` either way (the replay window). */
export function isFreshTimestamp(timestamp: number, now: number, maxSkewMs: number = HANDSHAKE_MAX_SKEW_MS): boolean {
  return Math.abs(now - timestamp) <= maxSkewMs;
}

/** Send-side limits and shared features of a session, derived from both hellos. */
export interface Negotiated {
  /** Largest frame body we may send (the peer's maxFrameLength). */
  sendMaxFrameLength: number;
  /** Credit every new stream starts with for sending (the peer's streamWindow). */
  sendStreamWindow: number;
  /** Session credit we start with for sending (the peer's sessionWindow). */
  sendSessionWindow: number;
  /** Most streams we may have open towards the peer at once (the peer's maxStreams). */
  sendMaxStreams: number;
  /** Capabilities both sides have. */
  capabilities: number;
  /** Padding to apply to what we send (what the peer asked for). */
  sendPaddingPolicy: PaddingPolicyValue;
}

/** Combines our hello and the peer's into our send-side limits. */
export function negotiate(local: Hello, remote: Hello): Negotiated {
  return {
    sendMaxFrameLength: remote.maxFrameLength,
    sendStreamWindow: remote.streamWindow,
    sendSessionWindow: remote.sessionWindow,
    sendMaxStreams: remote.maxStreams,
    capabilities: (local.capabilities & remote.capabilities) >>> 0,
    sendPaddingPolicy: remote.paddingPolicy,
  };
}

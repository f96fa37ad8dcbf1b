/**
 * Configuration of a mux session: the limits each side announced in its hello, plus the local
 * buffering, deadline and keepalive knobs. Every knob has a default (docs/mux.md has the table
 * and the reasoning); out-of-range values throw BAD_CONFIG naming the field.
 */
import { codedError, ErrorCode } from '../errors.ts';
import type { Endpoint } from '../protocol/address.ts';
import type { CloseCodeValue } from '../protocol/codes.ts';
import {
  DEFAULT_MAX_FRAME_LENGTH,
  DEFAULT_MAX_STREAMS,
  DEFAULT_SESSION_WINDOW,
  DEFAULT_STREAM_WINDOW,
  MAX_FRAME_LENGTH,
  MAX_MESSAGE_PLAINTEXT,
  MAX_WINDOW,
  MIN_FRAME_LENGTH,
  type NetworkValue,
} from '../protocol/constants.ts';
import { PaddingPolicy, type PaddingPolicyValue } from '../protocol/hello.ts';
import { WindowBudget } from './flow-window.ts';
import { realTimers, type Timers } from './timers.ts';
import type { MuxStream } from './stream.ts';

/** What one side accepts: the same fields as its hello, so a decoded Hello can be passed as is. */
export interface MuxLimits {
  /** Largest frame body the side accepts. */
  maxFrameLength: number;
  /** Initial receive window of every stream. */
  streamWindow: number;
  /** Initial session-level (stream 0) receive window. */
  sessionWindow: number;
  /** Most concurrently open streams the side accepts. */
  maxStreams: number;
}

/**
 * Window auto-tuning defaults (docs/mux.md "Window auto-tuning"). A stream window of 8 MiB
 * carries 40 MiB/s (335 Mbit/s) at 200 ms RTT; the session window grows to 1.5 times its
 * largest stream window and at most 32 MiB. The budget caps all growth in one process.
 */
export const DEFAULT_MAX_STREAM_WINDOW = 8 << 20;
/** See DEFAULT_MAX_STREAM_WINDOW. */
export const DEFAULT_MAX_SESSION_WINDOW = 32 << 20;
/** See DEFAULT_MAX_STREAM_WINDOW: 256 MiB of growth at most, across every session of a process. */
export const DEFAULT_WINDOW_BUDGET = 256 << 20;

/** Who opens streams: the dialer of a session (client) or of a link (handler) is the opener. */
export const MuxRole = {
  OPENER: 'opener',
  ACCEPTOR: 'acceptor',
} as const;

/** One of the MuxRole values. */
export type MuxRoleValue = (typeof MuxRole)[keyof typeof MuxRole];

/** What an OPEN asks for: network, endpoint and (links only) an opaque origin tag. */
export interface OpenRequest {
  network: NetworkValue;
  address: Endpoint;
  tag?: Uint8Array;
}

/** Options of `new MuxSession(transport, options)`. */
export interface MuxSessionOptions {
  /** Which side opens streams (docs/protocol.md 3.1). */
  role: MuxRoleValue;
  /** What we accept (our hello). Defaults: protocol defaults for client sessions. */
  local?: Partial<MuxLimits>;
  /** What the peer accepts (its hello): our send limits. */
  remote?: Partial<MuxLimits>;
  /** Capability bits both hellos share (Capability.UDP enables udp streams); default 0. */
  capabilities?: number;
  /** Padding the peer asked for (its hello); default NONE. */
  paddingPolicy?: PaddingPolicyValue;
  /** OPEN may carry an origin tag (links); on client sessions a tag is a PROTOCOL_ERROR. Default false. */
  allowTags?: boolean;
  /**
   * Auto-tuning may grow a stream's receive window up to this many bytes; default
   * DEFAULT_MAX_STREAM_WINDOW. At or below local.streamWindow the window keeps the hello's size.
   */
  maxStreamWindow?: number;
  /** The same for the session window; default DEFAULT_MAX_SESSION_WINDOW. */
  maxSessionWindow?: number;
  /**
   * Caps the growth of all windows that share it: pass one budget to every session of a
   * process. Default: a budget of DEFAULT_WINDOW_BUDGET for this session alone.
   */
  windowBudget?: WindowBudget;
  /** Plaintext bytes per transport message; default and maximum 65519. */
  messageSize?: number;
  /** A stream's write() promise stays pending while its queue holds more than this; default 64 KiB. */
  streamHighWater?: number;
  /** ...or while all streams together queue more than this; default 1 MiB. */
  sessionHighWater?: number;
  /** A write that would queue more than this on one stream is refused (BUFFER_LIMIT); default 4 MiB. */
  maxStreamQueue?: number;
  /**
   * Control frames (answers, credit) held unsent before the session fails with BUFFER_LIMIT;
   * default 16384, above the ~8190 frames one inbound message can provoke.
   */
  maxControlQueue?: number;
  /** Opener: OPEN_OK deadline. Acceptor: time the app has to accept() or reject(). Default 10 s. */
  openTimeoutMs?: number;
  /** Send a PING after this long without receiving anything; 0 disables keepalive. Default 15 s. */
  keepaliveIntervalMs?: number;
  /** The peer is dead when nothing arrives this long after a keepalive PING. Default 10 s. */
  keepaliveTimeoutMs?: number;
  /** Clock and timers (tests inject ManualTimers). */
  timers?: Timers;
  /** Uniform random integer in [0, n); used for RANDOM padding. Default: globalThis.crypto. */
  randomInt?: (n: number) => number;
  /** Acceptor: called for each OPEN; answer with stream.accept() or stream.reject(reason). */
  onOpen?: (stream: MuxStream, request: OpenRequest) => void;
  /** Called when the peer sends GOAWAY. */
  onGoAway?: (code: CloseCodeValue, lastStreamId: number) => void;
  /** Called once when the session is closed; `error` says why unless it was a clean close. */
  onClose?: (error?: Error) => void;
}

/** The auto-tuning settings a role gives every session it runs (one budget for the whole process). */
export type WindowGrowth = Pick<MuxSessionOptions, 'maxStreamWindow' | 'maxSessionWindow' | 'windowBudget'>;

/** Options with every default applied. */
export interface ResolvedMuxOptions {
  role: MuxRoleValue;
  local: MuxLimits;
  remote: MuxLimits;
  capabilities: number;
  paddingPolicy: PaddingPolicyValue;
  allowTags: boolean;
  maxStreamWindow: number;
  maxSessionWindow: number;
  windowBudget: WindowBudget;
  messageSize: number;
  streamHighWater: number;
  sessionHighWater: number;
  maxStreamQueue: number;
  maxControlQueue: number;
  openTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveTimeoutMs: number;
  timers: Timers;
  randomInt: (n: number) => number;
}

/** Defaults for client sessions (docs/protocol.md section 7); links pass larger windows. */
export const DEFAULT_MUX_LIMITS: Readonly<MuxLimits> = {
  maxFrameLength: DEFAULT_MAX_FRAME_LENGTH,
  streamWindow: DEFAULT_STREAM_WINDOW,
  sessionWindow: DEFAULT_SESSION_WINDOW,
  maxStreams: DEFAULT_MAX_STREAMS,
};

function bad(field: string, expected: string, got: unknown): Error {
  return codedError(RangeError, ErrorCode.BAD_CONFIG, `Mux option ${field} must be ${expected}, got ${String(got)}`);
}

function int(field: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) throw bad(field, `an integer ${min}-${max}`, v);
  return v;
}

function limits(side: string, given: Partial<MuxLimits> | undefined): MuxLimits {
  const g = given ?? {};
  return {
    maxFrameLength: int(`${side}.maxFrameLength`, g.maxFrameLength, DEFAULT_MAX_FRAME_LENGTH, MIN_FRAME_LENGTH, MAX_FRAME_LENGTH),
    streamWindow: int(`${side}.streamWindow`, g.streamWindow, DEFAULT_STREAM_WINDOW, 0, MAX_WINDOW),
    sessionWindow: int(`${side}.sessionWindow`, g.sessionWindow, DEFAULT_SESSION_WINDOW, 0, MAX_WINDOW),
    maxStreams: int(`${side}.maxStreams`, g.maxStreams, DEFAULT_MAX_STREAMS, 0, 0xffff_ffff),
  };
}

// RANDOM padding draws once per message: refill a pool instead of a getRandomValues call each.
const randomPool = new Uint32Array(256);
let randomPoolUsed = randomPool.length;

function cryptoRandomInt(n: number): number {
  if (randomPoolUsed === randomPool.length) {
    globalThis.crypto.getRandomValues(randomPool);
    randomPoolUsed = 0;
  }
  return randomPool[randomPoolUsed++]! % n;
}

const POLICIES = new Set<number>(Object.values(PaddingPolicy));

/** Applies defaults and checks ranges; throws BAD_CONFIG naming the first bad field. */
export function resolveMuxOptions(o: MuxSessionOptions): ResolvedMuxOptions {
  if (o.role !== MuxRole.OPENER && o.role !== MuxRole.ACCEPTOR) throw bad('role', "'opener' or 'acceptor'", o.role);
  const paddingPolicy = o.paddingPolicy ?? PaddingPolicy.NONE;
  if (!POLICIES.has(paddingPolicy)) throw bad('paddingPolicy', 'a PaddingPolicy value', paddingPolicy);
  const messageSize = int('messageSize', o.messageSize, MAX_MESSAGE_PLAINTEXT, 1024, MAX_MESSAGE_PLAINTEXT);
  const maxStreamQueue = int('maxStreamQueue', o.maxStreamQueue, 4 << 20, 1, 2 ** 40);
  const keepaliveIntervalMs = int('keepaliveIntervalMs', o.keepaliveIntervalMs, 15_000, 0, 2 ** 31 - 1);
  const local = limits('local', o.local);
  const { streamWindow, sessionWindow } = local;
  if (o.windowBudget !== undefined && !(o.windowBudget instanceof WindowBudget)) throw bad('windowBudget', 'a WindowBudget', o.windowBudget);
  return {
    role: o.role,
    local,
    remote: limits('remote', o.remote),
    // A window never shrinks below what the hello announced.
    maxStreamWindow: Math.max(streamWindow, int('maxStreamWindow', o.maxStreamWindow, DEFAULT_MAX_STREAM_WINDOW, 0, MAX_WINDOW)),
    maxSessionWindow: Math.max(sessionWindow, int('maxSessionWindow', o.maxSessionWindow, DEFAULT_MAX_SESSION_WINDOW, 0, MAX_WINDOW)),
    windowBudget: o.windowBudget ?? new WindowBudget(DEFAULT_WINDOW_BUDGET),
    capabilities: int('capabilities', o.capabilities, 0, 0, 0xffff_ffff),
    paddingPolicy,
    allowTags: o.allowTags ?? false,
    messageSize,
    streamHighWater: int('streamHighWater', o.streamHighWater, 64 << 10, 1, maxStreamQueue),
    sessionHighWater: int('sessionHighWater', o.sessionHighWater, 1 << 20, 1, 2 ** 40),
    maxStreamQueue,
    maxControlQueue: int('maxControlQueue', o.maxControlQueue, 16384, 16, 2 ** 20),
    openTimeoutMs: int('openTimeoutMs', o.openTimeoutMs, 10_000, 1, 2 ** 31 - 1),
    keepaliveIntervalMs,
    keepaliveTimeoutMs: int('keepaliveTimeoutMs', o.keepaliveTimeoutMs, 10_000, 1, 2 ** 31 - 1),
    timers: o.timers ?? realTimers,
    randomInt: o.randomInt ?? cryptoRandomInt,
  };
}

/** Bounds and timings of the raft peer transport, with their defaults. */
import { codedError, ErrorCode } from '../../../shared/errors.ts';

/** Every limit of the transport (docs/raft-operations.md explains each). */
export interface TransportLimits {
  /** Messages queued per peer while its link is down or busy; beyond it new ones are dropped. */
  maxQueueMessages: number;
  /** Bytes (upper bound of the encoding) queued per peer; beyond it new messages are dropped. */
  maxQueueBytes: number;
  /** Target size of one batch: messages are packed until the next would exceed it. */
  maxBatchBytes: number;
  /** Largest reassembled payload accepted from a peer. */
  maxPayloadBytes: number;
  /** Deadline of TCP connect, upgrade and handshake of one dial. */
  dialTimeoutMs: number;
  /** Deadline of an inbound handshake. */
  handshakeTimeoutMs: number;
  /** First reconnect delay after a failure; doubles per failure (with jitter). */
  backoffMinMs: number;
  /** Longest reconnect delay. */
  backoffMaxMs: number;
  /** How long a refused inbound socket is drained before it is dropped. */
  absorbMs: number;
  /** WebSocket send-queue high-water mark; above it the link waits for drain. */
  highWaterMark: number;
}

/** Defaults: enough for snapshots chunked at 256 KiB and AppendEntries of 1 MiB. */
export const DEFAULT_TRANSPORT_LIMITS: Readonly<TransportLimits> = {
  maxQueueMessages: 16_384,
  maxQueueBytes: 64 << 20,
  maxBatchBytes: 1 << 20,
  maxPayloadBytes: 64 << 20,
  dialTimeoutMs: 3_000,
  handshakeTimeoutMs: 5_000,
  backoffMinMs: 50,
  backoffMaxMs: 1_000,
  absorbMs: 10_000,
  highWaterMark: 4 << 20,
};

/** Fills defaults and checks every field is a positive integer; throws BAD_CONFIG naming it. */
export function resolveTransportLimits(partial: Partial<TransportLimits> = {}): TransportLimits {
  const out = { ...DEFAULT_TRANSPORT_LIMITS, ...partial };
  for (const [k, v] of Object.entries(out)) {
    if (!Number.isSafeInteger(v) || v < 1) {
      throw codedError(RangeError, ErrorCode.BAD_CONFIG, `Raft transport ${k} must be a positive integer, got ${String(v)}`);
    }
  }
  if (out.backoffMaxMs < out.backoffMinMs) {
    throw codedError(RangeError, ErrorCode.BAD_CONFIG, `Raft transport backoffMaxMs (${out.backoffMaxMs}) must be >= backoffMinMs (${out.backoffMinMs})`);
  }
  return out;
}

/** Counters of one transport (monotonic except the two link gauges). */
export interface TransportStats {
  messagesSent: number;
  messagesReceived: number;
  /** Dropped because a peer's queue was full or its link went down (Raft retries them). */
  messagesDropped: number;
  batchesSent: number;
  bytesSent: number;
  bytesReceived: number;
  dials: number;
  dialFailures: number;
  /** Outbound links currently open. */
  linksOpen: number;
  /** Inbound links currently open. */
  inboundOpen: number;
  inboundAccepted: number;
  /** Inbound handshakes refused (wrong key or prologue, replay, bad hello). */
  handshakesRefused: number;
  /** Payloads that failed to decode; the link carrying them is dropped. */
  badPayloads: number;
  /** Received messages not addressed to us or not from the link's peer. */
  misaddressed: number;
}

/** Zeroed stats. */
export function emptyTransportStats(): TransportStats {
  return {
    messagesSent: 0,
    messagesReceived: 0,
    messagesDropped: 0,
    batchesSent: 0,
    bytesSent: 0,
    bytesReceived: 0,
    dials: 0,
    dialFailures: 0,
    linksOpen: 0,
    inboundOpen: 0,
    inboundAccepted: 0,
    handshakesRefused: 0,
    badPayloads: 0,
    misaddressed: 0,
  };
}

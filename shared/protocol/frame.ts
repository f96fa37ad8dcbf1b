/**
 * The frame as a typed object: a discriminated union on `type`. Decoders hand out these,
 * encoders take them. Byte slices in decoded frames (payload, tag, opaque) are subarrays of
 * the decoder's input, not copies: keep the input untouched while a frame is in use.
 *
 * `pad` is the number of padding bytes (docs/protocol.md 2.2): it is present exactly when the
 * frame has the PADDED flag, on encode and on decode alike (`pad: 0` costs the 2-byte field).
 * Stream-level frames carry `streamId` (>= 1); session-level ones (PING, PONG, GOAWAY,
 * PADDING) always travel on stream 0 and have no `streamId` field; WINDOW may be either.
 */
import type { Endpoint } from './address.ts';
import type { FrameType, NetworkValue } from './constants.ts';
import type { CloseCodeValue, OpenFailReasonValue } from './codes.ts';

interface Padded {
  /** Padding bytes after the content; absent means no PADDED flag. */
  pad?: number;
}

/** Stream bytes; only `payload.length` counts against flow-control credit. */
export interface DataFrame extends Padded {
  type: typeof FrameType.DATA;
  streamId: number;
  payload: Uint8Array;
}

/** Opens a stream to `address` over `network`; `tag` is the link-only opaque origin tag. */
export interface OpenFrame extends Padded {
  type: typeof FrameType.OPEN;
  streamId: number;
  network: NetworkValue;
  address: Endpoint;
  /** 1-255 bytes, links only; absent on client sessions (an empty tag decodes as absent). */
  tag?: Uint8Array;
}

/** The stream is connected; DATA may flow both ways. */
export interface OpenOkFrame extends Padded {
  type: typeof FrameType.OPEN_OK;
  streamId: number;
}

/** The stream could not be opened; it is closed on both sides. */
export interface OpenFailFrame extends Padded {
  type: typeof FrameType.OPEN_FAIL;
  streamId: number;
  reason: OpenFailReasonValue;
}

/** Grants `increment` more bytes of DATA credit on `streamId` (0 = the whole session). */
export interface WindowFrame extends Padded {
  type: typeof FrameType.WINDOW;
  streamId: number;
  increment: number;
}

/** The sender will send no more DATA or DATAGRAM on this stream (half-close). */
export interface FinFrame extends Padded {
  type: typeof FrameType.FIN;
  streamId: number;
}

/** Aborts the stream in both directions. */
export interface ResetFrame extends Padded {
  type: typeof FrameType.RESET;
  streamId: number;
  code: CloseCodeValue;
}

/** Asks for a PONG echoing `opaque` (8 bytes), for liveness and RTT. */
export interface PingFrame extends Padded {
  type: typeof FrameType.PING;
  opaque: Uint8Array;
}

/** Answers a PING with its `opaque` bytes. */
export interface PongFrame extends Padded {
  type: typeof FrameType.PONG;
  opaque: Uint8Array;
}

/** One UDP datagram on a UDP stream: destination (opener to peer) or source (peer to opener). */
export interface DatagramFrame extends Padded {
  type: typeof FrameType.DATAGRAM;
  streamId: number;
  address: Endpoint;
  payload: Uint8Array;
}

/** No new streams; streams above `lastStreamId` were not processed and may be retried elsewhere. */
export interface GoAwayFrame extends Padded {
  type: typeof FrameType.GOAWAY;
  lastStreamId: number;
  code: CloseCodeValue;
}

/** Filler of `length` ignored bytes, to shape traffic. */
export interface PaddingFrame extends Padded {
  type: typeof FrameType.PADDING;
  length: number;
}

/** Any frame. */
export type Frame =
  | DataFrame
  | OpenFrame
  | OpenOkFrame
  | OpenFailFrame
  | WindowFrame
  | FinFrame
  | ResetFrame
  | PingFrame
  | PongFrame
  | DatagramFrame
  | GoAwayFrame
  | PaddingFrame;

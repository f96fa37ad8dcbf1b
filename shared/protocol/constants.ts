/**
 * Wire constants of the APFSDS frame protocol. The byte layouts they name are fixed in
 * docs/protocol.md; every value here appears there with the same name.
 */

/** Version carried in every hello (handshake payload); bumped on any incompatible change. */
export const PROTOCOL_VERSION = 1;

/** Frame type byte (offset 0 of the frame header). */
export const FrameType = {
  DATA: 0x00,
  OPEN: 0x01,
  OPEN_OK: 0x02,
  OPEN_FAIL: 0x03,
  WINDOW: 0x04,
  FIN: 0x05,
  RESET: 0x06,
  PING: 0x07,
  PONG: 0x08,
  DATAGRAM: 0x09,
  GOAWAY: 0x0a,
  PADDING: 0x0b,
} as const;

/** One of the FrameType values. */
export type FrameTypeValue = (typeof FrameType)[keyof typeof FrameType];

/** Frame flag bits (offset 1 of the frame header); any other bit set is a BAD_FRAME. */
export const FrameFlag = {
  /** The body starts with a u16 pad length and ends with that many padding bytes (RFC 9113 6.1). */
  PADDED: 0x01,
} as const;

/** Address type byte, the same numbers as SOCKS5 ATYP (RFC 1928 section 5). */
export const AddressType = {
  IPV4: 0x01,
  DOMAIN: 0x03,
  IPV6: 0x04,
} as const;

/** One of the AddressType values. */
export type AddressTypeValue = (typeof AddressType)[keyof typeof AddressType];

/** Transport protocol an OPEN asks for. */
export const Network = {
  TCP: 0x01,
  UDP: 0x02,
} as const;

/** One of the Network values. */
export type NetworkValue = (typeof Network)[keyof typeof Network];

/** Bytes in the fixed frame header: type u8, flags u8, length u16, stream id u32. */
export const FRAME_HEADER_LENGTH = 8;

/** Bytes in the PADDED pad-length field. */
export const PAD_LENGTH_FIELD = 2;

/** Bytes of opaque data in PING and PONG. */
export const PING_OPAQUE_LENGTH = 8;

/** Largest Noise transport message (Noise spec section 3). */
export const MAX_NOISE_MESSAGE = 65535;

/** ChaChaPoly authentication tag appended to every Noise transport message. */
export const NOISE_TAG_LENGTH = 16;

/** Largest plaintext one Noise transport message (one WebSocket message) can carry. */
export const MAX_MESSAGE_PLAINTEXT = MAX_NOISE_MESSAGE - NOISE_TAG_LENGTH;

/** Largest frame body (header length field) that still fits one Noise message. */
export const MAX_FRAME_LENGTH = MAX_MESSAGE_PLAINTEXT - FRAME_HEADER_LENGTH;

/** Smallest max-frame-length a peer may advertise: room for any OPEN (255-byte host and tag). */
export const MIN_FRAME_LENGTH = 1024;

/** Max frame body a peer accepts unless its hello says otherwise (RFC 9113 SETTINGS_MAX_FRAME_SIZE). */
export const DEFAULT_MAX_FRAME_LENGTH = 16384;

/** Largest flow-control window and WINDOW increment (RFC 9113 6.9.1). */
export const MAX_WINDOW = 0x7fff_ffff;

/** Largest stream id; ids are u32 and never reused within a session or link. */
export const MAX_STREAM_ID = 0xffff_ffff;

/** Default per-stream receive window on client sessions and links. */
export const DEFAULT_STREAM_WINDOW = 256 * 1024;

/** Default session-level (stream 0) receive window on a client session. */
export const DEFAULT_SESSION_WINDOW = 1024 * 1024;

/** Default session-level receive window on a handler<->exit link (many streams share it). */
export const DEFAULT_LINK_SESSION_WINDOW = 16 * 1024 * 1024;

/** Default cap on concurrently open streams per client session. */
export const DEFAULT_MAX_STREAMS = 512;

/** Default cap on concurrently open streams per handler<->exit link. */
export const DEFAULT_LINK_MAX_STREAMS = 16384;

/** Default cap on bytes an incremental FrameDecoder holds before its owner drains it. */
export const DEFAULT_MAX_BUFFERED_BYTES = 4 * 65536;

/** Longest domain name in OPEN and DATAGRAM (one length byte, as SOCKS5). */
export const MAX_DOMAIN_LENGTH = 255;

/** Longest opaque origin tag in a link OPEN. */
export const MAX_TAG_LENGTH = 255;

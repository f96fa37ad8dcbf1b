/**
 * Framing of raft link payloads into Noise transport messages. A Noise message holds at most
 * 65535 bytes (Noise spec section 3), so a payload (a batch of AppendEntries, a snapshot chunk)
 * is cut into fragments, each one WebSocket message:
 *
 *   fragment = u8 header(bit0 = more fragments follow; other bits 0) | bytes
 *   payload  = u8 kind | body        (PayloadKind)
 *
 * The reassembler is an explicit state machine with a hard limit on the assembled size; it
 * reports errors to its owner instead of throwing from a socket callback.
 */
import { MAX_PLAINTEXT } from '../../../shared/crypto/cipher-state.ts';
import { codedError, ErrorCode } from '../../../shared/errors.ts';

/** What an assembled payload carries. */
export const PayloadKind = {
  /** A batch of raft messages (codec.ts). */
  Batch: 1,
  /** A cluster-control request forwarded to the leader (control-codec.ts). */
  ControlRequest: 2,
  /** The leader's answer to a control request. */
  ControlResponse: 3,
} as const;
export type PayloadKind = (typeof PayloadKind)[keyof typeof PayloadKind];

const MORE = 0x01;

/** Largest fragment body so that header + body fits one Noise message. */
export const MAX_FRAGMENT_BODY = MAX_PLAINTEXT - 1;

/** Prefixes `body` with its kind byte. */
export function framePayload(kind: PayloadKind, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + body.length);
  out[0] = kind;
  out.set(body, 1);
  return out;
}

/** Cuts a payload into fragments of at most `maxBody` bytes each (plus the header byte). */
export function fragmentPayload(payload: Uint8Array, maxBody = MAX_FRAGMENT_BODY): Uint8Array[] {
  if (!Number.isSafeInteger(maxBody) || maxBody < 1 || maxBody > MAX_FRAGMENT_BODY) {
    throw codedError(RangeError, ErrorCode.BAD_CONFIG, `Fragment size must be 1-${MAX_FRAGMENT_BODY} bytes, got ${maxBody}`);
  }
  const out: Uint8Array[] = [];
  for (let at = 0; at < payload.length || out.length === 0; at += maxBody) {
    const end = Math.min(payload.length, at + maxBody);
    const f = new Uint8Array(1 + end - at);
    f[0] = end < payload.length ? MORE : 0;
    f.set(payload.subarray(at, end), 1);
    out.push(f);
  }
  return out;
}

/** Result of feeding one fragment. */
export type AssembleResult =
  | { kind: 'partial' }
  | { kind: 'payload'; payloadKind: number; body: Uint8Array }
  | { kind: 'error'; error: Error };

/** Reassembles fragments in arrival order (the link is ordered and reliable). */
export class FrameAssembler {
  readonly maxPayloadBytes: number;
  #parts: Uint8Array[] = [];
  #size = 0;
  #failed = false;

  constructor(maxPayloadBytes: number) {
    this.maxPayloadBytes = maxPayloadBytes;
  }

  /** Bytes held for an incomplete payload. */
  get buffered(): number {
    return this.#size;
  }

  push(fragment: Uint8Array): AssembleResult {
    if (this.#failed) return { kind: 'error', error: codedError(Error, ErrorCode.PROTOCOL, 'Raft link framing already failed') };
    if (fragment.length < 1) return this.#fail(codedError(RangeError, ErrorCode.BAD_FRAME, 'Raft link fragment is empty: expected a header byte'));
    const header = fragment[0]!;
    if ((header & ~MORE) !== 0) {
      return this.#fail(codedError(RangeError, ErrorCode.BAD_FRAME, `Raft link fragment header 0x${header.toString(16)} has unknown bits`));
    }
    const body = fragment.subarray(1);
    if (this.#size + body.length > this.maxPayloadBytes) {
      return this.#fail(
        codedError(RangeError, ErrorCode.FRAME_TOO_LARGE, `Raft link payload exceeds ${this.maxPayloadBytes} bytes`),
      );
    }
    if ((header & MORE) !== 0) {
      this.#parts.push(body);
      this.#size += body.length;
      return { kind: 'partial' };
    }
    let payload: Uint8Array;
    if (this.#parts.length === 0) {
      payload = body;
    } else {
      payload = new Uint8Array(this.#size + body.length);
      let at = 0;
      for (const p of this.#parts) {
        payload.set(p, at);
        at += p.length;
      }
      payload.set(body, at);
      this.#parts = [];
      this.#size = 0;
    }
    if (payload.length < 1) return this.#fail(codedError(RangeError, ErrorCode.BAD_FRAME, 'Raft link payload is empty: expected a kind byte'));
    return { kind: 'payload', payloadKind: payload[0]!, body: payload.subarray(1) };
  }

  #fail(error: Error): AssembleResult {
    this.#failed = true;
    this.#parts = [];
    this.#size = 0;
    return { kind: 'error', error };
  }
}

/** The APFSDS wire protocol: frames, endpoints, hellos (byte layouts in docs/protocol.md). */
export * from './constants.ts';
export * from './codes.ts';
export * from './address.ts';
export type * from './frame.ts';
export { frameLength, encodeFrameAt, encodeFrameInto, encodeFrame, encodeFrames, writeDataFrame } from './encode.ts';
export { decodeFrame, decodeFrames } from './decode.ts';
export { FrameDecoder, DecoderState, type DecoderStateValue, type FrameDecoderOptions } from './decoder.ts';
export { FrameBatch, type FrameBatchOptions } from './batch.ts';
export * from './hello.ts';
export { toHex, fromHex } from './bytes.ts';

/** The relay between a client stream and a link stream, with end-to-end flow control. */
export { StreamBridge, type BridgeOptions } from './bridge.ts';
export type { BridgeObserver, Direction, LinkOpen, StreamMeter, StreamRouter } from './types.ts';

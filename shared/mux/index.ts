/** The stream multiplexer: sessions, streams, flow control (docs/mux.md). */
export { MuxSession, type OpenOptions, type MuxStats } from './session.ts';
export { MuxStream, StreamPhase, type StreamPhaseValue } from './stream.ts';
export {
  MuxRole,
  DEFAULT_MUX_LIMITS,
  resolveMuxOptions,
  type MuxRoleValue,
  type MuxLimits,
  type MuxSessionOptions,
  type OpenRequest,
  type ResolvedMuxOptions,
} from './options.ts';
export { openFailedError, closedError, type OpenFailedError, type StreamClosedError } from './mux-errors.ts';
export type { MessageTransport } from './transport.ts';
export { createMemoryTransportPair, type MemoryTransport, type MemoryTransportOptions } from './memory-transport.ts';
export { realTimers, ManualTimers, type Timers } from './timers.ts';
export { muxOptionsFromHellos } from './hellos.ts';

/**
 * The exit's hello on links (docs/protocol.md 4 and 6): role EXIT, its id and region, and the
 * receive limits from config.limits, which the handler's mux obeys when sending to us.
 */
import type { HelloTemplate } from '../../shared/channel/handshake.ts';
import type { ExitConfig } from '../../shared/config/exit.ts';
import { Capability, PaddingPolicy, Role } from '../../shared/protocol/hello.ts';
import { MAX_FRAME_LENGTH, MAX_WINDOW } from '../../shared/protocol/constants.ts';

/** The hello template for every link of this exit (timestamp filled in when sent). */
export function exitHello(config: ExitConfig): HelloTemplate {
  return {
    role: Role.EXIT,
    // Links run between servers, outside the censored network; padding them buys nothing.
    paddingPolicy: PaddingPolicy.NONE,
    capabilities: config.udp.enabled ? Capability.UDP : 0,
    // Config allows up to a whole Noise message (65519); a frame body must leave room for its header.
    maxFrameLength: Math.min(config.limits.maxFrameSize, MAX_FRAME_LENGTH),
    streamWindow: Math.min(config.limits.streamWindow, MAX_WINDOW),
    sessionWindow: Math.min(config.limits.linkWindow, MAX_WINDOW),
    maxStreams: config.limits.maxStreamsPerLink,
    nodeId: config.id,
    region: config.region,
  };
}

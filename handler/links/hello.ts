/**
 * The handler's hellos: what it accepts on links to exits and on client sessions. Limits come
 * from config `limits`; links get the larger link defaults of docs/protocol.md section 6
 * because many client streams share one link.
 */
import type { Limits } from '../../shared/config/common.ts';
import type { HelloTemplate } from '../../shared/channel/handshake.ts';
import {
  DEFAULT_LINK_SESSION_WINDOW,
  MAX_FRAME_LENGTH,
  MAX_WINDOW,
  MIN_FRAME_LENGTH,
} from '../../shared/protocol/constants.ts';
import { Capability, PaddingPolicy, Role } from '../../shared/protocol/hello.ts';

/** limits.maxFrameSize allows up to 65519 (a whole Noise message); a frame body is at most 65511. */
export function frameLengthOf(limits: Pick<Limits, 'maxFrameSize'>): number {
  return Math.max(MIN_FRAME_LENGTH, Math.min(MAX_FRAME_LENGTH, limits.maxFrameSize));
}

/** The hello the handler sends on every link (KK message 1 when dialing, message 2 when dialed). */
export function linkHello(nodeId: string, limits: Pick<Limits, 'maxFrameSize' | 'streamWindow'>, maxStreams: number): HelloTemplate {
  const streamWindow = Math.min(MAX_WINDOW, limits.streamWindow);
  return {
    role: Role.HANDLER,
    // Links run between our own machines; padding them would only cost bandwidth.
    paddingPolicy: PaddingPolicy.NONE,
    capabilities: Capability.UDP,
    maxFrameLength: frameLengthOf(limits),
    streamWindow,
    sessionWindow: Math.min(MAX_WINDOW, Math.max(DEFAULT_LINK_SESSION_WINDOW, 4 * streamWindow)),
    maxStreams,
    nodeId,
    region: '',
  };
}

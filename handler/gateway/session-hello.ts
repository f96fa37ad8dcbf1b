/**
 * The handler's hello on client sessions (IK message 2). Limits come from config `limits`. The
 * padding policy mirrors the client's: a client that asks to receive padded messages gets the
 * same treatment of what it sends, so one client setting governs both directions. The handler
 * never names itself to a client (empty nodeId, docs/protocol.md 4.1).
 */
import type { HelloTemplate } from '../../shared/channel/handshake.ts';
import type { Limits } from '../../shared/config/common.ts';
import { MAX_WINDOW } from '../../shared/protocol/constants.ts';
import { Capability, Role, type Hello } from '../../shared/protocol/hello.ts';
import { frameLengthOf } from '../links/hello.ts';

/** Our hello for a client whose hello is `remote`. */
export function sessionHello(limits: Limits, remote: Hello): HelloTemplate {
  return {
    role: Role.HANDLER,
    paddingPolicy: remote.paddingPolicy,
    capabilities: Capability.UDP,
    maxFrameLength: frameLengthOf(limits),
    streamWindow: Math.min(MAX_WINDOW, limits.streamWindow),
    sessionWindow: Math.min(MAX_WINDOW, limits.sessionWindow),
    maxStreams: limits.maxStreamsPerSession,
    nodeId: '',
    region: '',
  };
}

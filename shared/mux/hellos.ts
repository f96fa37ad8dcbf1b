/**
 * Turns the two hellos of a handshake into mux options: our hello is what we accept (receive
 * limits), the peer's is what it accepts (our send limits), capabilities are the AND of both
 * and the padding is what the peer asked for (docs/protocol.md section 4, `negotiate`).
 */
import { negotiate, type Hello } from '../protocol/hello.ts';
import type { MuxLimits, MuxSessionOptions } from './options.ts';

function limitsOf(h: Hello): MuxLimits {
  return { maxFrameLength: h.maxFrameLength, streamWindow: h.streamWindow, sessionWindow: h.sessionWindow, maxStreams: h.maxStreams };
}

/** The hello-derived part of MuxSessionOptions; spread it into the options with a role. */
export function muxOptionsFromHellos(
  local: Hello,
  remote: Hello,
): Required<Pick<MuxSessionOptions, 'local' | 'remote' | 'capabilities' | 'paddingPolicy'>> {
  const n = negotiate(local, remote);
  return { local: limitsOf(local), remote: limitsOf(remote), capabilities: n.capabilities, paddingPolicy: n.sendPaddingPolicy };
}

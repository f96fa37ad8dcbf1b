/** The secure channel: Noise handshakes over a WebSocket and the encrypted transport (docs/mux.md). */
export { SecureChannel, type ChannelCiphers } from './secure-channel.ts';
export {
  absorbThenClose,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  type AcceptOutcome,
  type Authorize,
  type ChannelEstablished,
  type HandshakeRefusal,
  type HandshakeTiming,
  type HelloTemplate,
} from './handshake.ts';
export {
  acceptLink,
  acceptSession,
  connectLink,
  connectSession,
  type AcceptLinkOptions,
  type AcceptSessionOptions,
  type ConnectLinkOptions,
  type ConnectSessionOptions,
  type NoiseSettings,
} from './connect.ts';

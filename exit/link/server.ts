/**
 * Dial mode: the exit listens (config.listen) and handlers open links to it. Only a
 * well-formed WebSocket upgrade on the secret path reaches the Noise KK responder; every other
 * request gets the decoy 404 (decoy.ts). A failed handshake (wrong key, garbage, replay,
 * silence) is never answered: the socket is drained until the handshake deadline and then
 * dropped without a close frame, like an idle connection (docs/architecture.md section 3).
 */
import { absorbThenClose, acceptLink } from '../../shared/channel/index.ts';
import type { HelloTemplate } from '../../shared/channel/handshake.ts';
import type { ReplayGuard } from '../../shared/crypto/replay-guard.ts';
import type { StaticKey } from '../../shared/crypto/static-key.ts';
import type { Logger } from '../../shared/log.ts';
import { serve, type HttpServer, type ServerTlsOptions, type WsConnection } from '../../shared/runtime/index.ts';
import { MAX_NOISE_MESSAGE } from '../../shared/protocol/constants.ts';
import { decoyResponse } from './decoy.ts';
import type { LinkSet } from './links.ts';

/** What the link listener needs. */
export interface LinkServerOptions {
  host: string;
  port: number;
  path: string;
  tls?: ServerTlsOptions;
  staticKey: StaticKey;
  /** The handler cluster's public key: the only initiator static accepted. */
  clusterPublicKey: Uint8Array;
  hello: HelloTemplate;
  replayGuard: ReplayGuard;
  handshakeTimeoutMs: number;
  links: LinkSet;
  logger: Logger;
  /** Counts refused handshakes by reason (for tests and logs). */
  onRefused?: (reason: string) => void;
}

/** Starts the link listener; resolves once bound. */
export async function startLinkServer(o: LinkServerOptions): Promise<HttpServer> {
  const accept = (ws: WsConnection, remote: string): void => {
    const started = performance.now();
    if (o.links.closing) {
      ws.terminate();
      return;
    }
    void acceptLink(ws, {
      staticKey: o.staticKey,
      remoteStatic: o.clusterPublicKey,
      hello: o.hello,
      replayGuard: o.replayGuard,
      timeoutMs: o.handshakeTimeoutMs,
    }).then((outcome) => {
      if (!outcome.ok) {
        o.onRefused?.(outcome.reason);
        o.logger.debug({ remote, reason: outcome.reason }, 'link handshake refused');
        // Whatever went wrong, the socket looks the same: silent until the deadline, then gone.
        const left = Math.max(1, o.handshakeTimeoutMs - (performance.now() - started));
        void absorbThenClose(ws, left);
        return;
      }
      void o.links.attach(outcome, 'dial', remote);
    });
  };
  return serve({
    hostname: o.host,
    port: o.port,
    ...(o.tls === undefined ? {} : { tls: o.tls }),
    // One Noise message per WebSocket message (docs/protocol.md 1): anything larger is not ours.
    maxPayload: MAX_NOISE_MESSAGE,
    fetch: decoyResponse,
    websocket: {
      path: o.path,
      onOpen: (ws, _req, info) => accept(ws, `${info.remoteAddress}:${info.remotePort}`),
    },
    onError: (error) => o.logger.warn({ err: error }, 'link listener error'),
  });
}

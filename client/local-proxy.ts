/**
 * The local "mixed" port (docs/routing.md section 1): one TCP listener for SOCKS5 and HTTP,
 * told apart by the first byte (client/proxy/detect.ts). SOCKS4 gets its own refusal; an app
 * speaking TLS to the port (https:// proxy URL) or anything else is logged and dropped.
 */
import { listenTcp, type TcpConnection, type TcpListener } from '../shared/runtime/tcp.ts';
import { AppConnection } from './app-connection.ts';
import type { ProxyContext } from './context.ts';
import { detectProxyProtocol, socks4Rejection } from './proxy/detect.ts';
import { serveHttp } from './http-server.ts';
import { serveSocks5 } from './socks5-server.ts';

/** Where the local proxy listens. */
export interface LocalProxyAddress {
  readonly host: string;
  readonly port: number;
}

function onConnection(conn: TcpConnection, ctx: ProxyContext): void {
  // Until the first byte arrives, an idle app is held to the handshake deadline.
  const waiting = new AppConnection(conn);
  conn.onData((first) => {
    waiting.stopDeadline();
    const kind = detectProxyProtocol(first);
    if (kind === 'socks5') return serveSocks5(conn, first, ctx);
    if (kind === 'http') return serveHttp(conn, first, ctx);
    if (kind === 'socks4') {
      ctx.logger.debug('SOCKS4 request refused; only SOCKS5 is served');
      waiting.finish(socks4Rejection());
      return;
    }
    ctx.logger.info(
      { kind },
      kind === 'tls'
        ? 'An app spoke TLS to the proxy port; configure it as an http:// or socks5:// proxy, not https://'
        : 'Connection with an unknown protocol closed',
    );
    conn.destroy();
  });
}

/** Listens on `address` and serves SOCKS5 and HTTP proxy connections until closed. */
export function listenLocalProxy(address: LocalProxyAddress, ctx: ProxyContext): Promise<TcpListener> {
  return listenTcp({ hostname: address.host, port: address.port }, (conn) => onConnection(conn, ctx));
}

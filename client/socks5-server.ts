/**
 * SOCKS5 on the local port (RFC 1928, RFC 1929 user/pass when configured): runs the parser
 * from client/proxy/socks5.ts, opens a tunnel stream for CONNECT and answers with the reply
 * code the exit's verdict maps to (0x00 on OPEN_OK; 0x02 for a policy refusal, 0x04/0x05 for
 * unreachable/refused ...), then bridges. Domain targets go to the exit as names: the client
 * never resolves them (socks5h semantics). UDP ASSOCIATE is handed to client/udp-associate.ts.
 */
import { Network } from '../shared/protocol/constants.ts';
import { streamLogger } from '../shared/log.ts';
import type { TcpConnection } from '../shared/runtime/tcp.ts';
import { AppConnection } from './app-connection.ts';
import { bridge } from './bridge.ts';
import { countStream, type ProxyContext } from './context.ts';
import { socks5ReplyForFailure } from './proxy/failure.ts';
import { createSocks5Parser, encodeSocks5Reply, Socks5Reply, type Socks5Event } from './proxy/socks5.ts';
import { formatTarget } from './proxy/target.ts';
import { openTunnel } from './tunnel.ts';
import { serveUdpAssociate } from './udp-associate.ts';

/** Serves one app connection whose first bytes (`first`) announced SOCKS5. */
export function serveSocks5(conn: TcpConnection, first: Uint8Array, ctx: ProxyContext): void {
  ctx.metrics.connections.inc({ protocol: 'socks5' });
  const app = new AppConnection(conn);
  const parser = createSocks5Parser({ users: ctx.users, udp: ctx.udp });
  const onChunk = (chunk: Uint8Array): void => {
    for (const ev of parser.push(chunk)) {
      if (!handle(ev)) return;
    }
  };
  // Returns false once the connection left the handshake (answered, refused or tunnelled).
  const handle = (ev: Socks5Event): boolean => {
    switch (ev.type) {
      case 'send':
        conn.write(ev.data);
        return true;
      case 'error':
        ctx.logger.debug({ code: ev.code, err: ev.message }, 'SOCKS5 handshake refused');
        app.finish(ev.reply);
        return false;
      case 'connect':
        app.hold();
        void connect(app, ev.target, ev.rest, ctx);
        return false;
      case 'udp_associate':
        app.hold();
        void serveUdpAssociate(app, ev.target, ctx);
        return false;
    }
  };
  conn.onData(onChunk);
  onChunk(first);
}

async function connect(app: AppConnection, target: Parameters<typeof formatTarget>[0], rest: Uint8Array, ctx: ProxyContext): Promise<void> {
  app.stopDeadline();
  const result = await openTunnel(ctx.pool, { network: Network.TCP, target, timeoutMs: ctx.openTimeoutMs, signal: app.gone });
  if (!result.ok) {
    ctx.logger.debug({ target: formatTarget(target), failure: result.failure, code: (result.error as { code?: string }).code }, 'SOCKS5 CONNECT failed');
    app.finish(encodeSocks5Reply(socks5ReplyForFailure(result.failure)));
    return;
  }
  const stream = result.stream;
  const log = streamLogger(ctx.logger, stream.id);
  if (app.gone.aborted) {
    stream.reset();
    return;
  }
  // RFC 1928 section 6: BND.ADDR/BND.PORT of a tunnelled CONNECT cannot name the exit's
  // socket truthfully; 0.0.0.0:0 is what clients accept.
  app.conn.write(encodeSocks5Reply(Socks5Reply.SUCCEEDED));
  log.debug({ target: formatTarget(target) }, 'SOCKS5 CONNECT open');
  const done = await countStream(
    ctx,
    bridge(app.conn, stream, {
      initial: [rest, ...app.held],
      onUp: (n) => ctx.bytesUp.inc(n),
      onDown: (n) => ctx.bytesDown.inc(n),
    }),
  );
  log.debug({ up: done.bytesUp, down: done.bytesDown, code: (done.error as { code?: string } | null)?.code }, 'SOCKS5 stream closed');
}

/**
 * SOCKS5 UDP ASSOCIATE (RFC 1928 section 7) over a udp tunnel stream (docs/protocol.md 3.3):
 * a UDP relay socket is bound on the address the app reached us on and named in the reply;
 * each SOCKS5 datagram from the app becomes one DATAGRAM frame (destination endpoint), each
 * DATAGRAM from the exit one SOCKS5 datagram back (source endpoint). The association lives as
 * long as the app's TCP control connection (section 7: "terminates when the TCP connection
 * ... terminates"). Datagrams are unreliable end to end: oversized, fragmented (FRAG != 0) or
 * foreign-source datagrams are dropped, never queued.
 */
import { CloseCode } from '../shared/protocol/codes.ts';
import { Network } from '../shared/protocol/constants.ts';
import type { Endpoint } from '../shared/protocol/address.ts';
import { bindUdp, type UdpSocket } from '../shared/runtime/udp.ts';
import type { AppConnection } from './app-connection.ts';
import { countStream, type ProxyContext } from './context.ts';
import { socks5ReplyForFailure } from './proxy/failure.ts';
import { encodeSocks5Reply, Socks5Reply } from './proxy/socks5.ts';
import { decodeSocks5Datagram, encodeSocks5Datagram } from './proxy/socks5-udp.ts';
import { TargetType, type ProxyTarget, type TargetTypeValue } from './proxy/target.ts';
import { endpointOf, openTunnel } from './tunnel.ts';

/** An IPv4-mapped IPv6 address as dual-stack sockets report it, as plain IPv4. */
function plainIp(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

function targetOf(ep: Endpoint): ProxyTarget {
  return { addressType: ep.addressType as TargetTypeValue, host: ep.host, port: ep.port };
}

/** Serves an accepted UDP ASSOCIATE request; `hint` is the app's DST.ADDR/DST.PORT. */
export async function serveUdpAssociate(app: AppConnection, hint: ProxyTarget, ctx: ProxyContext): Promise<void> {
  app.stopDeadline();
  const conn = app.conn;
  const localIp = plainIp(conn.localAddress);
  let udp: UdpSocket;
  try {
    udp = await bindUdp({ hostname: localIp, port: 0 });
  } catch (err) {
    ctx.logger.warn({ code: (err as { code?: string }).code, err: (err as Error).message }, 'UDP ASSOCIATE: could not bind a relay socket');
    app.finish(encodeSocks5Reply(Socks5Reply.GENERAL_FAILURE));
    return;
  }
  const unspecified: ProxyTarget = { addressType: TargetType.IPV4, host: '0.0.0.0', port: 0 };
  const result = await openTunnel(ctx.pool, { network: Network.UDP, target: unspecified, timeoutMs: ctx.openTimeoutMs, signal: app.gone });
  if (!result.ok || app.gone.aborted) {
    if (result.ok) result.stream.reset(CloseCode.CANCEL);
    await udp.close();
    if (!result.ok) {
      ctx.logger.debug({ failure: result.failure, code: (result.error as { code?: string }).code }, 'UDP ASSOCIATE failed');
      app.finish(encodeSocks5Reply(socks5ReplyForFailure(result.failure)));
    }
    return;
  }
  const stream = result.stream;
  const bound: ProxyTarget = { addressType: udp.family === 6 ? TargetType.IPV6 : TargetType.IPV4, host: udp.address, port: udp.port };
  conn.write(encodeSocks5Reply(Socks5Reply.SUCCEEDED, bound));

  // Section 7: only datagrams from the app's own address are relayed; the port is the one
  // the app announced, or else the one its first datagram came from.
  const appIp = plainIp(conn.remoteAddress);
  let appPort = hint.port !== 0 && plainIp(hint.host) === appIp ? hint.port : 0;
  let appAddress: string | null = null;
  udp.onError(() => {});
  udp.onMessage((data, from) => {
    if (plainIp(from.address) !== appIp) return;
    if (appPort === 0) appPort = from.port;
    else if (from.port !== appPort) return;
    appAddress = from.address;
    let datagram;
    try {
      datagram = decodeSocks5Datagram(data);
    } catch {
      return;
    }
    if (datagram.frag !== 0) return;
    if (stream.sendDatagram(endpointOf(datagram.target), datagram.payload)) ctx.bytesUp.inc(datagram.payload.byteLength);
  });
  stream.onDatagram((address, payload) => {
    if (appAddress === null) return;
    udp.send(encodeSocks5Datagram(targetOf(address), payload), appPort, appAddress);
    ctx.bytesDown.inc(payload.byteLength);
  });

  const controlClosed = new Promise<void>((resolve) => {
    conn.onData(() => {});
    conn.onEnd(() => conn.end());
    conn.onClose(() => resolve());
    conn.resume();
  });
  await countStream(
    ctx,
    Promise.race([controlClosed, stream.closed]).then(async () => {
      stream.reset(CloseCode.CANCEL);
      conn.destroy();
      await udp.close();
    }),
  );
}

/**
 * A long path on loopback: a TCP relay on 127.0.0.1 that holds every chunk for `oneWayMs`
 * before passing it on, in each direction, so a connection through it sees an RTT of twice that
 * (network namespaces here have no netem). It reads without limit, like a path with a deep
 * buffer and ample bandwidth: only the tunnel's own flow-control windows limit a transfer, as
 * on a long uncongested route. Runs in the test or bench process.
 */
import net from 'node:net';

/** A running delay relay. */
export interface DelayRelay {
  readonly port: number;
  close(): Promise<void>;
}

/** Pipes `from` into `to`, each chunk `delayMs` after it arrived, in order. */
function delayedPipe(from: net.Socket, to: net.Socket, delayMs: number): void {
  const queue: Array<{ at: number; chunk: Buffer }> = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  const flush = (): void => {
    timer = null;
    const now = performance.now();
    while (queue.length > 0 && queue[0]!.at <= now) to.write(queue.shift()!.chunk);
    if (queue.length > 0) timer = setTimeout(flush, Math.max(0, queue[0]!.at - now));
    else if (from.readableEnded) to.end();
  };
  from.on('data', (chunk: Buffer) => {
    queue.push({ at: performance.now() + delayMs, chunk });
    timer ??= setTimeout(flush, delayMs);
  });
  from.on('end', () => {
    if (queue.length === 0 && timer === null) to.end();
  });
  const stop = (): void => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    queue.length = 0;
  };
  from.on('close', stop);
  to.on('close', stop);
}

/** Starts a relay to 127.0.0.1:`targetPort` that delays each direction by `oneWayMs`. */
export async function startDelayRelay(targetPort: number, oneWayMs: number): Promise<DelayRelay> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ noDelay: true }, (inbound) => {
    const outbound = net.connect({ host: '127.0.0.1', port: targetPort, noDelay: true });
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        inbound.destroy();
        outbound.destroy();
      });
    }
    delayedPipe(inbound, outbound, oneWayMs);
    delayedPipe(outbound, inbound, oneWayMs);
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

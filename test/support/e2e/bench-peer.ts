/**
 * The far end of the tunnel benchmark, in its own process so the app side (the benchmark) and
 * the destination do not share a thread, for the direct baseline as for the tunnel:
 *   sink  counts bytes until the sender half-closes, then answers the count (8 bytes, BE)
 *   echo  writes back what it reads
 *   idle  accepts and holds connections (10,000 idle streams)
 * Prints one JSON line {"sink":port,"echo":port,"idle":port} when listening; exits when its
 * stdin closes (the benchmark is gone) or on SIGTERM.
 */
import net from 'node:net';
import process from 'node:process';
import { exitWithParent } from './child-lifecycle.ts';

function listen(onSocket: (s: net.Socket) => void): Promise<number> {
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => s.destroy());
    onSocket(s);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => {
      const a = server.address();
      resolve(typeof a === 'object' && a !== null ? a.port : 0);
    });
  });
}

const sink = await listen((s) => {
  let n = 0;
  s.on('data', (c: Buffer) => {
    n += c.length;
  });
  s.on('end', () => {
    const out = Buffer.alloc(8);
    out.writeBigUInt64BE(BigInt(n));
    s.end(out);
  });
});
const echo = await listen((s) => {
  s.setNoDelay(true);
  s.pipe(s);
});
const held = new Set<net.Socket>();
const idle = await listen((s) => {
  held.add(s);
  s.on('close', () => held.delete(s));
  s.on('data', () => {});
  s.on('end', () => s.end());
});

process.stdout.write(`${JSON.stringify({ sink, echo, idle })}\n`);
exitWithParent();

/**
 * A bare TCP relay for the tunnel benchmark's latency bound: accepts on 127.0.0.1 (port 0)
 * and pipes each connection to 127.0.0.1:<target> with Nagle off, no framing, no crypto.
 * Three in a chain are the process hops of client -> handler -> exit with nothing done in them.
 * Prints one JSON line {"port":N} when listening; exits when its stdin closes or on SIGTERM.
 */
import net from 'node:net';
import process from 'node:process';
import { exitWithParent } from './child-lifecycle.ts';

const target = Number(process.argv[2]);
if (!Number.isInteger(target) || target <= 0 || target > 65_535) {
  console.error(`bench-relay: expected a target port, got ${process.argv[2]}`);
  process.exit(2);
}
const server = net.createServer({ noDelay: true }, (inbound) => {
  const outbound = net.connect({ host: '127.0.0.1', port: target, noDelay: true });
  inbound.pipe(outbound);
  outbound.pipe(inbound);
  inbound.on('error', () => outbound.destroy());
  outbound.on('error', () => inbound.destroy());
  inbound.on('close', () => outbound.destroy());
  outbound.on('close', () => inbound.destroy());
});
server.listen({ host: '127.0.0.1', port: 0 }, () => {
  const a = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof a === 'object' && a !== null ? a.port : 0 })}\n`);
});
exitWithParent();

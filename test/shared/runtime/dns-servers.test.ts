import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { resolveHost } from '../../../shared/runtime/dns.ts';
import { ErrorCode } from '../../../shared/errors.ts';

// A minimal authoritative DNS responder (RFC 1035 section 4.1) for one zone on 127.0.0.1:
// A records from `records`, NXDOMAIN for names it does not know, NODATA for AAAA.
function startDnsServer(records: Record<string, number[]>): Promise<{ socket: Socket; port: number; queries: string[] }> {
  const queries: string[] = [];
  const socket = createSocket('udp4');
  socket.on('message', (msg, rinfo) => {
    let o = 12;
    const labels: string[] = [];
    while (msg[o] !== 0) {
      const len = msg[o]!;
      labels.push(msg.subarray(o + 1, o + 1 + len).toString('latin1'));
      o += 1 + len;
    }
    const qtype = msg.readUInt16BE(o + 1);
    const questionEnd = o + 5;
    const name = labels.join('.');
    queries.push(`${name}/${qtype}`);
    const known = records[name];
    const answer = known !== undefined && qtype === 1 ? known : null;
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2); // id
    header.writeUInt16BE(0x8400 | (known === undefined ? 3 : 0), 2); // QR, AA, RCODE
    header.writeUInt16BE(1, 4); // QDCOUNT
    header.writeUInt16BE(answer === null ? 0 : 1, 6); // ANCOUNT
    const parts = [header, msg.subarray(12, questionEnd)];
    if (answer !== null) {
      const rr = Buffer.alloc(16);
      rr.writeUInt16BE(0xc00c, 0); // pointer to the question name
      rr.writeUInt16BE(1, 2); // TYPE A
      rr.writeUInt16BE(1, 4); // CLASS IN
      rr.writeUInt32BE(60, 6); // TTL
      rr.writeUInt16BE(4, 10);
      Buffer.from(answer).copy(rr, 12);
      parts.push(rr);
    }
    socket.send(Buffer.concat(parts), rinfo.port, rinfo.address);
  });
  return new Promise((resolve) => socket.bind(0, '127.0.0.1', () => resolve({ socket, port: socket.address().port, queries })));
}

test('resolveHost() asks the configured servers instead of the system resolver', async () => {
  const dns = await startDnsServer({ 'tunnel.test': [192, 0, 2, 7] });
  try {
    const servers = [`127.0.0.1:${dns.port}`];
    assert.deepEqual(await resolveHost('tunnel.test', { servers, timeoutMs: 5_000 }), ['192.0.2.7']);
    assert.ok(dns.queries.includes('tunnel.test/1'), `queries seen: ${dns.queries.join(', ')}`);
  } finally {
    dns.socket.close();
  }
});

test('resolveHost() reports DNS_FAILED for a name the configured server does not have', async () => {
  const dns = await startDnsServer({});
  try {
    await assert.rejects(
      resolveHost('missing.test', { servers: [`127.0.0.1:${dns.port}`], timeoutMs: 5_000 }),
      (err: { code?: string }) => err.code === ErrorCode.DNS_FAILED,
    );
  } finally {
    dns.socket.close();
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createSocks5Parser,
  decodeSocks5Address,
  encodeSocks5Address,
  encodeSocks5Reply,
  Socks5Reply,
  type Socks5Event,
  type Socks5Options,
} from '../../../client/proxy/socks5.ts';
import { TargetType } from '../../../client/proxy/target.ts';
import { ErrorCode } from '../../../shared/errors.ts';

const h = (s: string) => Uint8Array.from(s.replace(/\s+/g, '').match(/../g) ?? [], (x) => parseInt(x, 16));
const hex = (b: Uint8Array | null) => (b === null ? null : Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(''));

/** Feeds `bytes` in the given pieces and collects every event. */
function run(bytes: Uint8Array, cuts: number[], options?: Socks5Options): Socks5Event[] {
  const p = createSocks5Parser(options);
  const events: Socks5Event[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    events.push(...p.push(bytes.slice(at, cut)));
    at = cut;
  }
  return events;
}

const GREETING = '05 01 00';
const CONNECT_V4 = '05 01 00 01 5db8d822 0050'; // 93.184.216.34:80
const CONNECT_DOMAIN = '05 01 00 03 0b 6578616d706c652e636f6d 01bb'; // example.com:443
const CONNECT_V6 = '05 01 00 04 20010db8000000000000000000000001 0016'; // [2001:db8::1]:22

test('a no-auth CONNECT to IPv4 yields a method reply and a connect event', () => {
  const events = run(h(GREETING + CONNECT_V4), []);
  assert.equal(events.length, 2);
  assert.deepEqual(events[0], { type: 'send', data: h('0500') });
  assert.deepEqual(events[1], {
    type: 'connect',
    target: { addressType: TargetType.IPV4, host: '93.184.216.34', port: 80 },
    user: null,
    rest: new Uint8Array(0),
  });
});

test('CONNECT to a domain and to IPv6 decode their targets canonically', () => {
  const d = run(h(GREETING + CONNECT_DOMAIN), [])[1];
  assert.ok(d?.type === 'connect');
  assert.deepEqual(d.target, { addressType: TargetType.DOMAIN, host: 'example.com', port: 443 });
  const v6 = run(h(GREETING + CONNECT_V6), [])[1];
  assert.ok(v6?.type === 'connect');
  assert.deepEqual(v6.target, { addressType: TargetType.IPV6, host: '2001:db8::1', port: 22 });
});

test('the handshake gives the same events whatever the split, including byte by byte', () => {
  const bytes = h(GREETING + CONNECT_DOMAIN);
  const whole = run(bytes, []);
  for (let cut = 1; cut < bytes.length; cut++) assert.deepEqual(run(bytes, [cut]), whole, `cut at ${cut}`);
  const each = Array.from({ length: bytes.length - 1 }, (_, i) => i + 1);
  assert.deepEqual(run(bytes, each), whole);
});

test('bytes the app sends after the request are handed over as rest', () => {
  const ev = run(h(GREETING + CONNECT_V4 + '16030100'), [])[1];
  assert.ok(ev?.type === 'connect');
  assert.equal(hex(ev.rest), '16030100');
});

test('a domain holding an IP literal becomes an IP target and is lowercased otherwise', () => {
  const name = (s: string) => {
    const b = new TextEncoder().encode(s);
    return `05 01 00 03 ${b.length.toString(16).padStart(2, '0')} ${hex(b)} 0050`;
  };
  const ip = run(h(GREETING + name('10.0.0.1')), [])[1];
  assert.ok(ip?.type === 'connect' && ip.target.addressType === TargetType.IPV4);
  const up = run(h(GREETING + name('ExAmple.COM')), [])[1];
  assert.ok(up?.type === 'connect' && up.target.host === 'example.com');
});

test('BIND is refused with reply 0x07 and code UNSUPPORTED', () => {
  const events = run(h(GREETING + '05 02 00 01 00000000 0000'), []);
  const err = events[1];
  assert.ok(err?.type === 'error');
  assert.equal(err.code, ErrorCode.UNSUPPORTED);
  assert.equal(hex(err.reply), '05070001000000000000');
});

test('UDP ASSOCIATE is refused with 0x07 unless enabled, then parsed with a zero address', () => {
  const req = GREETING + '05 03 00 01 00000000 0000';
  const off = run(h(req), [])[1];
  assert.ok(off?.type === 'error' && off.reply?.[1] === Socks5Reply.COMMAND_NOT_SUPPORTED);
  const on = run(h(req), [], { udp: true })[1];
  assert.ok(on?.type === 'udp_associate');
  assert.deepEqual(on.target, { addressType: TargetType.IPV4, host: '0.0.0.0', port: 0 });
});

test('an unknown address type is refused with reply 0x08', () => {
  const err = run(h(GREETING + '05 01 00 07 00'), [])[1];
  assert.ok(err?.type === 'error' && err.reply?.[1] === Socks5Reply.ADDRESS_TYPE_NOT_SUPPORTED);
});

test('a malformed domain or a CONNECT to port 0 is refused with 0x04 and BAD_ADDRESS', () => {
  for (const req of ['05 01 00 03 00 0050', '05 01 00 03 03 612f62 0050', '05 01 00 03 02 ff fe 0050', '05 01 00 01 01020304 0000']) {
    const err = run(h(GREETING + req), [])[1];
    assert.ok(err?.type === 'error', req);
    assert.equal(err.code, ErrorCode.BAD_ADDRESS, req);
    assert.equal(err.reply?.[1], Socks5Reply.HOST_UNREACHABLE, req);
  }
});

test('a wrong version byte fails without a reply and later bytes are ignored', () => {
  const p = createSocks5Parser();
  const [err] = p.push(h('04 01 00 50'));
  assert.ok(err?.type === 'error' && err.reply === null && err.code === ErrorCode.PROTOCOL);
  assert.equal(p.state, 'failed');
  assert.deepEqual(p.push(h('05 01 00')), []);
});

test('no acceptable method is answered with 0xFF', () => {
  const [err] = run(h('05 01 80'), []);
  assert.ok(err?.type === 'error' && err.code === ErrorCode.AUTH_FAILED);
  assert.equal(hex(err.reply), '05ff');
  const [needAuth] = run(h('05 01 00'), [], { users: [{ username: 'u', password: 'p' }] });
  assert.ok(needAuth?.type === 'error' && hex(needAuth.reply) === '05ff');
});

const users = [
  { username: 'alice', password: 's3cret' },
  { username: 'bob', password: 'hunter2' },
];
const authMsg = (u: string, p: string) => {
  const ub = new TextEncoder().encode(u);
  const pb = new TextEncoder().encode(p);
  return `01 ${ub.length.toString(16).padStart(2, '0')} ${hex(ub)} ${pb.length.toString(16).padStart(2, '0')} ${hex(pb)}`;
};

test('RFC 1929 auth: right credentials succeed and name the user on the connect event', () => {
  const bytes = h('05 02 00 02' + authMsg('bob', 'hunter2') + CONNECT_V4);
  const whole = run(bytes, [], { users });
  assert.deepEqual(whole.map((e) => e.type), ['send', 'send', 'connect']);
  assert.ok(whole[0]?.type === 'send' && hex(whole[0].data) === '0502');
  assert.ok(whole[1]?.type === 'send' && hex(whole[1].data) === '0100');
  assert.ok(whole[2]?.type === 'connect' && whole[2].user === 'bob');
  for (let cut = 1; cut < bytes.length; cut++) assert.deepEqual(run(bytes, [cut], { users }), whole, `cut at ${cut}`);
});

test('RFC 1929 auth: a wrong password or username fails with status 0x01', () => {
  for (const [u, p] of [['bob', 'hunter3'], ['bobb', 'hunter2'], ['', ''], ['alice', 'hunter2']] as const) {
    const events = run(h('05 01 02' + authMsg(u, p) + CONNECT_V4), [], { users });
    const err = events[1];
    assert.ok(err?.type === 'error', `${u}:${p}`);
    assert.equal(err.code, ErrorCode.AUTH_FAILED);
    assert.equal(hex(err.reply), '0101');
    assert.equal(events.length, 2);
  }
});

test('without configured users an app that only offers user/pass is let through', () => {
  const events = run(h('05 01 02' + authMsg('any', 'thing') + CONNECT_V4), []);
  assert.deepEqual(events.map((e) => e.type), ['send', 'send', 'connect']);
  assert.ok(events[2]?.type === 'connect' && events[2].user === null);
});

test('pushing after the handshake is done reports CLOSED', () => {
  const p = createSocks5Parser();
  p.push(h(GREETING + CONNECT_V4));
  assert.equal(p.state, 'done');
  const [err] = p.push(h('00'));
  assert.ok(err?.type === 'error' && err.code === ErrorCode.CLOSED);
});

test('encodeSocks5Reply() writes every RFC 1928 reply code with the bound address', () => {
  for (let code = 0; code <= 8; code++) {
    assert.equal(hex(encodeSocks5Reply(code)), `050${code}0001000000000000`);
  }
  assert.equal(hex(encodeSocks5Reply(0, { addressType: TargetType.IPV4, host: '127.0.0.1', port: 1080 })), '050000017f0000010438');
  assert.equal(
    hex(encodeSocks5Reply(0, { addressType: TargetType.IPV6, host: '::1', port: 1 })),
    '05000004' + '0'.repeat(31) + '1' + '0001',
  );
});

test('encodeSocks5Address() and decodeSocks5Address() round-trip all three types', () => {
  for (const t of [
    { addressType: TargetType.IPV4, host: '1.2.3.4', port: 65535 },
    { addressType: TargetType.IPV6, host: 'fe80::1', port: 443 },
    { addressType: TargetType.DOMAIN, host: 'a.example', port: 8080 },
  ] as const) {
    const enc = encodeSocks5Address(t);
    assert.deepEqual(decodeSocks5Address(enc, 0), { status: 'ok', target: t, next: enc.length });
    assert.deepEqual(decodeSocks5Address(enc.subarray(0, enc.length - 1), 0), { status: 'short' });
  }
});

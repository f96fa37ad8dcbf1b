import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../shared/errors.ts';
import {
  EXPOSITION_CONTENT_TYPE,
  Registry,
  clientMetrics,
  escapeLabelValue,
  exitMetrics,
  formatValue,
  handlerMetrics,
  raftMetrics,
} from '../../shared/metrics/index.ts';

describe('metrics', () => {
  it('renders a small registry exactly in text format 0.0.4', () => {
    const r = new Registry();
    const bytes = r.counter({ name: 'apfsds_bytes_total', help: 'Bytes relayed.', labelNames: ['direction', 'exit'] });
    const sessions = r.gauge({ name: 'apfsds_sessions_active', help: 'Open sessions.' });
    const open = r.histogram({ name: 'apfsds_open_seconds', help: 'Open latency.', labelNames: ['exit'], buckets: [0.1, 1] });
    r.counter({ name: 'apfsds_handshakes_total', help: 'Handshakes.' });
    bytes.inc({ direction: 'up', exit: 'us' }, 100);
    bytes.inc({ direction: 'down', exit: 'us' }, 2048);
    bytes.labels({ direction: 'up', exit: 'us' }).inc(5);
    sessions.inc();
    sessions.inc(2);
    sessions.dec();
    open.observe({ exit: 'eu' }, 0.05);
    open.observe({ exit: 'eu' }, 0.5);
    open.labels({ exit: 'eu' }).observe(3);
    assert.equal(
      r.metrics(),
      [
        '# HELP apfsds_bytes_total Bytes relayed.',
        '# TYPE apfsds_bytes_total counter',
        'apfsds_bytes_total{direction="up",exit="us"} 105',
        'apfsds_bytes_total{direction="down",exit="us"} 2048',
        '# HELP apfsds_sessions_active Open sessions.',
        '# TYPE apfsds_sessions_active gauge',
        'apfsds_sessions_active 2',
        '# HELP apfsds_open_seconds Open latency.',
        '# TYPE apfsds_open_seconds histogram',
        'apfsds_open_seconds_bucket{exit="eu",le="0.1"} 1',
        'apfsds_open_seconds_bucket{exit="eu",le="1"} 2',
        'apfsds_open_seconds_bucket{exit="eu",le="+Inf"} 3',
        'apfsds_open_seconds_sum{exit="eu"} 3.55',
        'apfsds_open_seconds_count{exit="eu"} 3',
        '# HELP apfsds_handshakes_total Handshakes.',
        '# TYPE apfsds_handshakes_total counter',
        'apfsds_handshakes_total 0',
        '',
      ].join('\n'),
    );
    assert.equal(r.contentType, EXPOSITION_CONTENT_TYPE);
  });

  it('escapes label values and help text', () => {
    const r = new Registry();
    const g = r.gauge({ name: 'x', help: 'Back\\slash and\nnewline.', labelNames: ['v'] });
    g.set({ v: 'a"b\\c\nd' }, 1);
    assert.equal(r.metrics(), '# HELP x Back\\\\slash and\\nnewline.\n# TYPE x gauge\nx{v="a\\"b\\\\c\\nd"} 1\n');
    assert.equal(escapeLabelValue('plain'), 'plain');
  });

  it('formats special values as Prometheus reads them', () => {
    assert.deepEqual([NaN, Infinity, -Infinity, 1.5, 0].map(formatValue), ['NaN', '+Inf', '-Inf', '1.5', '0']);
    const r = new Registry();
    r.gauge({ name: 'g', help: 'h' }).set(Infinity);
    assert.match(r.metrics(), /^g \+Inf$/m);
  });

  it('unlabelled histograms start with zero buckets and time with startTimer', () => {
    const r = new Registry();
    const h = r.histogram({ name: 'h', help: 'H.', buckets: [1] });
    assert.equal(r.metrics(), '# HELP h H.\n# TYPE h histogram\nh_bucket{le="1"} 0\nh_bucket{le="+Inf"} 0\nh_sum 0\nh_count 0\n');
    const stop = h.startTimer();
    const seconds = stop();
    assert.ok(seconds >= 0);
    assert.match(r.metrics(), /^h_count 1$/m);
  });

  it('gauges can be computed at scrape time', () => {
    const r = new Registry();
    let term = 3;
    r.gauge({ name: 'raft_term', help: 'Term.', collect: (g) => g.set(term) });
    term = 4;
    assert.match(r.metrics(), /^raft_term 4$/m);
  });

  it('remove and reset drop series', () => {
    const r = new Registry();
    const c = r.counter({ name: 'sel_total', help: 'S.', labelNames: ['exit'] });
    c.inc({ exit: 'a' });
    c.inc({ exit: 'b' });
    c.remove({ exit: 'a' });
    assert.equal(r.metrics(), '# HELP sel_total S.\n# TYPE sel_total counter\nsel_total{exit="b"} 1\n');
    c.reset();
    assert.equal(r.metrics(), '# HELP sel_total S.\n# TYPE sel_total counter\n');
  });

  it('refuses bad names, wrong labels, decreasing counters and bad buckets with BAD_METRIC', () => {
    const r = new Registry();
    const code = { code: ErrorCode.BAD_METRIC };
    assert.throws(() => r.counter({ name: '1bad', help: '' }), code);
    assert.throws(() => r.counter({ name: 'ok', help: '', labelNames: ['__x'] }), code);
    assert.throws(() => r.histogram({ name: 'h', help: '', labelNames: ['le'] }), code);
    assert.throws(() => r.histogram({ name: 'h2', help: '', buckets: [1, 1] }), code);
    const c = r.counter({ name: 'c', help: '', labelNames: ['a'] });
    assert.throws(() => c.inc({ a: 'x' }, -1), code);
    assert.throws(() => c.inc({ b: 'x' } as never), code);
    assert.throws(() => c.inc(), code);
    const plain = r.counter({ name: 'p', help: '' });
    assert.throws(() => plain.inc({ a: 1 } as never), code);
  });

  it('declaring the same metric twice returns it; a different shape is refused', () => {
    const r = new Registry();
    const a = r.counter({ name: 'same_total', help: 'x', labelNames: ['k'] });
    assert.equal(r.counter({ name: 'same_total', help: 'x', labelNames: ['k'] }), a);
    assert.throws(() => r.gauge({ name: 'same_total', help: 'x', labelNames: ['k'] }), { code: ErrorCode.BAD_METRIC });
    assert.throws(() => r.counter({ name: 'same_total', help: 'x' }), { code: ErrorCode.BAD_METRIC });
  });

  it('the catalog declares every role on one registry without clashes', () => {
    const r = new Registry();
    const h = handlerMetrics(r);
    raftMetrics(r);
    exitMetrics(r);
    clientMetrics(r);
    handlerMetrics(r);
    h.bytes.inc({ direction: 'up', exit: 'us' }, 10);
    h.handshakes.inc({ result: 'ok' });
    const text = r.metrics();
    for (const name of ['apfsds_handler_sessions_active', 'apfsds_raft_term', 'apfsds_exit_links_active', 'apfsds_client_reconnects_total']) {
      assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'));
    }
    assert.match(text, /^apfsds_handler_bytes_total\{direction="up",exit="us"\} 10$/m);
  });
});

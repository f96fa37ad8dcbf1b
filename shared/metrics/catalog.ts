/**
 * The metric names every APFSDS role exports (ARCHITECTURE 8), declared in one place so
 * dashboards, alerts and docs agree with the code. Each function declares its role's metrics
 * on a registry (idempotently, so `up` can declare all roles on one registry) and returns the
 * handles. Byte directions: "up" is toward the internet, "down" toward the app.
 */
import type { Counter, Gauge, Histogram, Registry } from './registry.ts';

/** Buckets for stream open latency: OPEN to OPEN_OK through handler and exit, seconds. */
export const OPEN_LATENCY_BUCKETS: readonly number[] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Handler data plane metrics. */
export type HandlerMetrics = {
  sessionsActive: Gauge;
  streamsActive: Gauge;
  bytes: Counter<'direction' | 'exit'>;
  streamOpenSeconds: Histogram<'exit'>;
  /** result: ok, bad_handshake, replay, unknown_user, disabled, timeout, limit. */
  handshakes: Counter<'result'>;
  /** kind: path (wrong path or plain HTTP), handshake, garbage, rate (per-IP limit). */
  probesRejected: Counter<'kind'>;
  /** 1 when the exit takes streams, 0 when down, ejected or draining. */
  exitUp: Gauge<'exit'>;
  exitRttSeconds: Gauge<'exit'>;
  exitSelections: Counter<'exit'>;
  /** reason: the routing NoExitDetail (none_configured, region_not_allowed, ...). */
  noExit: Counter<'reason'>;
};

/** Declares the handler metrics. */
export function handlerMetrics(r: Registry): HandlerMetrics {
  return {
    sessionsActive: r.gauge({ name: 'apfsds_handler_sessions_active', help: 'Client sessions open on this handler.' }),
    streamsActive: r.gauge({ name: 'apfsds_handler_streams_active', help: 'Client streams open on this handler.' }),
    bytes: r.counter({
      name: 'apfsds_handler_bytes_total',
      help: 'Stream payload bytes relayed, by direction (up = toward the internet) and exit.',
      labelNames: ['direction', 'exit'],
    }),
    streamOpenSeconds: r.histogram({
      name: 'apfsds_handler_stream_open_seconds',
      help: 'Time from a client OPEN to the exit answer, by exit.',
      labelNames: ['exit'],
      buckets: OPEN_LATENCY_BUCKETS,
    }),
    handshakes: r.counter({ name: 'apfsds_handler_handshakes_total', help: 'Client handshakes by result.', labelNames: ['result'] }),
    probesRejected: r.counter({
      name: 'apfsds_handler_probes_rejected_total',
      help: 'Requests answered as a decoy or drained, by kind.',
      labelNames: ['kind'],
    }),
    exitUp: r.gauge({ name: 'apfsds_handler_exit_up', help: '1 when the exit takes new streams, else 0.', labelNames: ['exit'] }),
    exitRttSeconds: r.gauge({ name: 'apfsds_handler_exit_rtt_seconds', help: 'Smoothed link heartbeat RTT to the exit.', labelNames: ['exit'] }),
    exitSelections: r.counter({ name: 'apfsds_handler_exit_selections_total', help: 'Streams routed to each exit.', labelNames: ['exit'] }),
    noExit: r.counter({ name: 'apfsds_handler_no_exit_total', help: 'Streams refused because no exit was usable, by reason.', labelNames: ['reason'] }),
  };
}

/** Raft metrics of a handler. */
export type RaftMetrics = {
  term: Gauge;
  /** 1 on the leader. */
  isLeader: Gauge;
  /** 1 when this node knows a leader. */
  hasLeader: Gauge;
  commitIndex: Gauge;
  appliedIndex: Gauge;
  leaderChanges: Counter;
};

/** Declares the raft metrics. */
export function raftMetrics(r: Registry): RaftMetrics {
  return {
    term: r.gauge({ name: 'apfsds_raft_term', help: 'Current raft term.' }),
    isLeader: r.gauge({ name: 'apfsds_raft_is_leader', help: '1 when this node is the raft leader.' }),
    hasLeader: r.gauge({ name: 'apfsds_raft_has_leader', help: '1 when this node knows a raft leader.' }),
    commitIndex: r.gauge({ name: 'apfsds_raft_commit_index', help: 'Highest raft log index known committed.' }),
    appliedIndex: r.gauge({ name: 'apfsds_raft_applied_index', help: 'Highest raft log index applied to the state machine.' }),
    leaderChanges: r.counter({ name: 'apfsds_raft_leader_changes_total', help: 'Times this node saw the raft leader change.' }),
  };
}

/** Exit metrics. */
export type ExitMetrics = {
  linksActive: Gauge;
  streamsActive: Gauge;
  bytes: Counter<'direction'>;
  connectSeconds: Histogram;
  /** reason: policy, dns, refused, timeout, unreachable. */
  openFailures: Counter<'reason'>;
  udpFlowsActive: Gauge;
};

/** Declares the exit metrics. */
export function exitMetrics(r: Registry): ExitMetrics {
  return {
    linksActive: r.gauge({ name: 'apfsds_exit_links_active', help: 'Handler links open on this exit.' }),
    streamsActive: r.gauge({ name: 'apfsds_exit_streams_active', help: 'Egress connections open on this exit.' }),
    bytes: r.counter({
      name: 'apfsds_exit_bytes_total',
      help: 'Egress payload bytes, by direction (up = toward the internet).',
      labelNames: ['direction'],
    }),
    connectSeconds: r.histogram({
      name: 'apfsds_exit_connect_seconds',
      help: 'DNS plus TCP connect time of egress connections.',
      buckets: OPEN_LATENCY_BUCKETS,
    }),
    openFailures: r.counter({ name: 'apfsds_exit_open_failures_total', help: 'Egress opens refused or failed, by reason.', labelNames: ['reason'] }),
    udpFlowsActive: r.gauge({ name: 'apfsds_exit_udp_flows_active', help: 'UDP flows open on this exit.' }),
  };
}

/** Whose sessions a window-growth budget serves: a handler's clients or links, an exit's links, a client's handlers. */
export type WindowPeers = 'clients' | 'links' | 'handlers';

/**
 * Declares `apfsds_<role>_window_growth_bytes{peers}`, read from the role's window-growth
 * budgets at scrape time: the session-window growth auto-tuning holds now (docs/mux.md), each
 * at most the configured windowGrowthBudget. Returns the gauge.
 */
export function windowGrowthGauge(
  r: Registry,
  role: 'handler' | 'exit' | 'client',
  budgets: Partial<Record<WindowPeers, { readonly used: number }>>,
): Gauge<'peers'> {
  return r.gauge({
    name: `apfsds_${role}_window_growth_bytes`,
    help: 'Session-window growth from flow-control auto-tuning held now, in bytes, by whose sessions.',
    labelNames: ['peers'],
    collect: (gauge) => {
      for (const [peers, budget] of Object.entries(budgets)) gauge.set({ peers: peers as WindowPeers }, budget.used);
    },
  });
}

/** Client metrics. */
export type ClientMetrics = {
  sessionsActive: Gauge;
  streamsActive: Gauge;
  bytes: Counter<'direction'>;
  reconnects: Counter;
  /** protocol: socks5, http. */
  connections: Counter<'protocol'>;
};

/** Declares the client metrics. */
export function clientMetrics(r: Registry): ClientMetrics {
  return {
    sessionsActive: r.gauge({ name: 'apfsds_client_sessions_active', help: 'Sessions open to handlers.' }),
    streamsActive: r.gauge({ name: 'apfsds_client_streams_active', help: 'App connections being relayed.' }),
    bytes: r.counter({
      name: 'apfsds_client_bytes_total',
      help: 'App payload bytes relayed, by direction (up = toward the internet).',
      labelNames: ['direction'],
    }),
    reconnects: r.counter({ name: 'apfsds_client_reconnects_total', help: 'Session reconnect attempts.' }),
    connections: r.counter({ name: 'apfsds_client_connections_total', help: 'App connections accepted, by protocol.', labelNames: ['protocol'] }),
  };
}

/**
 * Prometheus config, alert rules and the Grafana dashboard use only metric names the catalog
 * declares (shared/metrics/catalog.ts), and agree with the compose topology they scrape.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { catalogMetrics, parseYaml, readRepo, repoPath, unknownMetrics } from './support.ts';

type Rule = { alert?: string; expr?: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
type Panel = { id?: number; type?: string; title?: string; targets?: { expr?: string; refId?: string; datasource?: { uid?: string } }[]; gridPos?: { h: number; w: number; x: number; y: number } };

const catalog = catalogMetrics();
// Series Prometheus itself adds to every scrape (not from the catalog).
const PROMETHEUS_BUILTINS = new Set(['up']);

/**
 * Series selectors in an expression that are not apfsds_* (or a Prometheus built-in): every
 * identifier that is not a function call, keyword, label name or number.
 */
function foreignSeries(expr: string): string[] {
  const cleaned = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const out: string[] = [];
  for (const m of cleaned.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const name = m[0];
    const before = cleaned[m.index - 1] ?? ' ';
    const after = cleaned.slice(m.index + name.length).trimStart()[0];
    if (/[0-9.]/.test(before) || after === '(') continue;
    if (name.startsWith('apfsds_') || PROMETHEUS_BUILTINS.has(name) || /^(and|or|unless|bool|offset)$/.test(name)) continue;
    out.push(name);
  }
  return out;
}

function balanced(expr: string): boolean {
  let depth = 0;
  for (const c of expr.replace(/"(?:[^"\\]|\\.)*"/g, '')) {
    if (c === '(' || c === '{' || c === '[') depth++;
    if (c === ')' || c === '}' || c === ']') depth--;
    if (depth < 0) return false;
  }
  return depth === 0;
}

describe('metric catalog as the tests see it', () => {
  it('holds the handler, raft, exit and client metrics', () => {
    for (const name of ['apfsds_handler_sessions_active', 'apfsds_raft_is_leader', 'apfsds_exit_links_active', 'apfsds_client_reconnects_total']) {
      assert.ok(catalog.has(name), name);
    }
    assert.equal(catalog.get('apfsds_handler_stream_open_seconds'), 'histogram');
  });

  it('flags names that do not exist and histogram suffixes on non-histograms', () => {
    assert.deepEqual(unknownMetrics('rate(apfsds_handler_bytes_totl[5m])', catalog), ['apfsds_handler_bytes_totl']);
    assert.deepEqual(unknownMetrics('apfsds_exit_connect_seconds_bucket', catalog), []);
    assert.deepEqual(unknownMetrics('apfsds_raft_term_count', catalog), ['apfsds_raft_term_count']);
  });

  it('spots series from outside the catalog in an expression', () => {
    assert.deepEqual(foreignSeries('sum by (node) (rate(node_cpu_seconds_total[5m])) > 1'), ['node_cpu_seconds_total']);
    assert.deepEqual(foreignSeries('up{job="apfsds-exit"} == 0 and on (exit) apfsds_handler_exit_up'), []);
  });
});

describe('deploy/prometheus/alerts.yml', () => {
  const doc = parseYaml(readRepo('deploy/prometheus/alerts.yml'), 'alerts.yml') as { groups: { name: string; rules: Rule[] }[] };
  const rules = doc.groups.flatMap((g) => g.rules);

  it('has groups of alerting rules with unique names, a severity and a summary', () => {
    assert.ok(rules.length >= 8);
    const names = rules.map((r) => r.alert);
    assert.equal(new Set(names).size, names.length, 'alert names repeat');
    for (const r of rules) {
      assert.ok(typeof r.alert === 'string' && /^Apfsds[A-Za-z]+$/.test(r.alert), `alert name ${String(r.alert)}`);
      assert.ok(typeof r.expr === 'string' && r.expr.trim() !== '', `${r.alert}: expr`);
      assert.ok(['critical', 'warning', 'info'].includes(r.labels?.['severity'] ?? ''), `${r.alert}: severity`);
      assert.ok((r.annotations?.['summary'] ?? '') !== '', `${r.alert}: summary`);
      if (r.for !== undefined) assert.match(r.for, /^\d+[smh]$/, `${r.alert}: for`);
    }
  });

  it('covers no raft leader, exit down and handshake failure spikes', () => {
    const byName = new Map(rules.map((r) => [r.alert, r.expr ?? '']));
    assert.match(byName.get('ApfsdsRaftNoLeader') ?? '', /apfsds_raft_is_leader/);
    assert.match(byName.get('ApfsdsExitDown') ?? '', /up\{job="apfsds-exit"\}/);
    assert.match(byName.get('ApfsdsExitUnusable') ?? '', /apfsds_handler_exit_up/);
    assert.match(byName.get('ApfsdsHandshakeFailureSpike') ?? '', /apfsds_handler_handshakes_total\{result!="ok"\}/);
  });

  for (const r of rules) {
    it(`${r.alert} uses only catalog metrics, with balanced brackets`, () => {
      const expr = r.expr ?? '';
      assert.deepEqual(unknownMetrics(expr, catalog), [], `${r.alert}: unknown metric names`);
      assert.deepEqual(foreignSeries(expr), [], `${r.alert}: series from outside the catalog`);
      assert.ok(balanced(expr), `${r.alert}: unbalanced brackets`);
    });
  }
});

describe('deploy/prometheus/prometheus.yml', () => {
  const doc = parseYaml(readRepo('deploy/prometheus/prometheus.yml'), 'prometheus.yml') as {
    rule_files: string[];
    scrape_configs: { job_name: string; metrics_path?: string; static_configs: { targets: string[] }[] }[];
  };
  const compose = parseYaml(readRepo('deploy/compose/docker-compose.split.yaml'), 'split compose') as {
    services: Record<string, { command?: string[]; environment?: Record<string, string> }>;
  };

  it('loads rule files that exist next to it', () => {
    for (const f of doc.rule_files) assert.ok(existsSync(repoPath('deploy/prometheus', f)), f);
  });

  it('scrapes the jobs the alerts name, at the compose services and their metric ports', () => {
    const jobs = new Map(doc.scrape_configs.map((s) => [s.job_name, s]));
    assert.deepEqual([...jobs.keys()].sort(), ['apfsds-exit', 'apfsds-handler']);
    const targets = (job: string): string[] => jobs.get(job)!.static_configs.flatMap((s) => s.targets).sort();
    const services = (role: string): string[] =>
      Object.entries(compose.services)
        .filter(([, s]) => s.command?.[0] === role && !('profiles' in s))
        .map(([name]) => name)
        .sort();
    // Handlers serve metrics on admin.port (9090, the examples); exits on status.port (9091).
    assert.deepEqual(targets('apfsds-handler'), services('handler').map((s) => `${s}:9090`));
    assert.deepEqual(targets('apfsds-exit'), services('exit').map((s) => `${s}:9091`));
    for (const s of doc.scrape_configs) assert.equal(s.metrics_path ?? '/metrics', '/metrics');
  });
});

describe('deploy/grafana', () => {
  const dash = JSON.parse(readRepo('deploy/grafana/dashboards/apfsds.json')) as {
    uid: string;
    title: string;
    panels: Panel[];
    templating: { list: { name: string; type: string }[] };
  };
  const panels = dash.panels;
  const queries = panels.filter((p) => p.type !== 'row');

  it('has unique panel ids, a datasource variable and panels inside the 24-column grid', () => {
    const ids = panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(dash.templating.list.some((v) => v.name === 'datasource' && v.type === 'datasource'));
    for (const p of panels) {
      const g = p.gridPos!;
      assert.ok(g.x >= 0 && g.w > 0 && g.x + g.w <= 24, `${p.title}: gridPos`);
    }
  });

  it('has panels for sessions, exits, handshakes and raft', () => {
    const all = queries.flatMap((p) => p.targets ?? []).map((t) => t.expr ?? '').join('\n');
    for (const name of ['apfsds_handler_sessions_active', 'apfsds_handler_exit_up', 'apfsds_handler_handshakes_total', 'apfsds_raft_is_leader', 'apfsds_exit_links_active']) {
      assert.ok(all.includes(name), `${name} has no panel`);
    }
  });

  for (const p of queries) {
    it(`panel "${p.title}" queries only catalog metrics through the datasource variable`, () => {
      assert.ok((p.targets ?? []).length > 0, 'no queries');
      for (const t of p.targets ?? []) {
        const expr = t.expr ?? '';
        assert.deepEqual(unknownMetrics(expr, catalog), [], `${p.title}: unknown metric names`);
        assert.deepEqual(foreignSeries(expr.replace(/\$__rate_interval/g, '5m')), [], `${p.title}: series from outside the catalog`);
        assert.ok(balanced(expr), `${p.title}: unbalanced brackets`);
        assert.equal(t.datasource?.uid, '${datasource}');
      }
    });
  }

  it('provisions the datasource uid the dashboard defaults to and the folder compose mounts', () => {
    const ds = parseYaml(readRepo('deploy/grafana/provisioning/datasources/prometheus.yaml'), 'datasource') as { datasources: { uid: string; url: string }[] };
    const provider = parseYaml(readRepo('deploy/grafana/provisioning/dashboards/apfsds.yaml'), 'provider') as { providers: { options: { path: string } }[] };
    const variable = (dash.templating.list[0] as unknown as { current: { value: string } }).current.value;
    assert.equal(ds.datasources[0]?.uid, variable);
    assert.equal(ds.datasources[0]?.url, 'http://prometheus:9090');
    const compose = readRepo('deploy/compose/docker-compose.split.yaml');
    assert.ok(compose.includes(`../grafana/dashboards:${provider.providers[0]!.options.path}:ro`), 'compose mounts the dashboards where the provider reads them');
  });
});

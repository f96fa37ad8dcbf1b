/**
 * deploy/helm/apfsds without Helm: static checks of the templates (every .Values path exists in
 * values.yaml, every include is defined, actions and blocks balance), then the chart rendered
 * by test/deploy/gotemplate.ts and checked as Kubernetes objects: selectors match pods, ports
 * and volumes are wired, the rendered handler.yaml and exit.yaml load with the real config
 * loader and the keys the Secret mounts, and the topology (raft peers, exit URLs, weights 1/1/2)
 * agrees with itself.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { parseConfigText, resolveSecrets, validateConfig, type ConfigFor, type ConfigIO } from '../../shared/config/index.ts';
import { encodeKey, generateKeyPair } from '../../shared/crypto/keys.ts';
import { TemplateSet } from './gotemplate.ts';
import { CLI_COMMANDS, parseYaml, readRepo, repoPath } from './support.ts';

type Obj = Record<string, unknown>;
type K8s = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Obj; data?: Record<string, string> };
type Container = {
  name: string;
  command?: string[];
  args: string[];
  env?: { name: string; value?: string; valueFrom?: Obj }[];
  ports: { name: string; containerPort: number }[];
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  startupProbe?: { httpGet: { path: string; port: string } };
  securityContext: Obj;
};
type PodSpec = {
  containers: Container[];
  volumes: { name: string; configMap?: { name: string }; secret?: { secretName: string; items?: { key: string; path: string }[] }; emptyDir?: Obj }[];
  securityContext: Obj;
};
type PodTemplate = { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec };

const CHART = 'deploy/helm/apfsds';
const TEMPLATES = readdirSync(repoPath(CHART, 'templates')).sort();
const sources = new Map(TEMPLATES.map((f) => [f, readRepo(CHART, 'templates', f)]));
const values = parseYaml(readRepo(CHART, 'values.yaml'), 'values.yaml') as Obj;
const chart = parseYaml(readRepo(CHART, 'Chart.yaml'), 'Chart.yaml') as { apiVersion: string; name: string; version: string; appVersion: string };

const isMap = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const merge = (base: unknown, over: unknown): unknown => {
  if (!isMap(base) || !isMap(over)) return structuredClone(over);
  const out: Obj = structuredClone(base);
  for (const [k, v] of Object.entries(over)) out[k] = merge(base[k], v);
  return out;
};

// ---- material the test installs: keys in the Secret, public keys in values -------------------

const pair = (): { priv: string; pub: string } => {
  const k = generateKeyPair();
  return { priv: encodeKey(k.privateKey), pub: encodeKey(k.publicKey) };
};
const cluster = pair();
const exitKeys = { 'exit-us': pair(), 'exit-eu': pair(), 'exit-asia': pair() } as Record<string, { priv: string; pub: string }>;
const ADMIN_TOKEN = 'helm-test-admin-token-0123456789';
/** The Secret secrets.existingSecret names, as an operator creates it (values.yaml header). */
const SECRET: Record<string, string> = {
  'cluster.key': cluster.priv,
  'admin.token': ADMIN_TOKEN,
  'exit-us.key': exitKeys['exit-us']!.priv,
  'exit-eu.key': exitKeys['exit-eu']!.priv,
  'exit-asia.key': exitKeys['exit-asia']!.priv,
};

function testValues(over: Obj = {}): Obj {
  const exits = (values['exits'] as Obj[]).map((e) => ({
    ...e,
    publicKey: exitKeys[e['id'] as string]!.pub,
    ...(e['mode'] === 'reverse' ? {} : { linkPath: `/link-${e['id'] as string}` }),
  }));
  const base = merge(values, { clusterPublicKey: cluster.pub, handler: { path: '/session-secret-path', linksPath: '/reverse-links-path' } }) as Obj;
  base['exits'] = exits;
  return merge(base, over) as Obj;
}

const RELEASE = { Name: 'apfsds', Namespace: 'tunnel', Service: 'Helm', IsInstall: true, IsUpgrade: false };
const CHART_DATA = { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion };

function templateSet(): TemplateSet {
  const set = new TemplateSet();
  for (const [f, src] of sources) set.add(f, src);
  return set;
}

/** Renders every manifest template; returns the objects and the raw text per file. */
function render(vals: Obj): { objects: K8s[]; text: Map<string, string> } {
  const set = templateSet();
  const data = { Values: vals, Release: RELEASE, Chart: CHART_DATA, Capabilities: { KubeVersion: { Version: 'v1.30.0' } } };
  const text = new Map<string, string>();
  const objects: K8s[] = [];
  for (const f of TEMPLATES.filter((t) => t.endsWith('.yaml'))) {
    const out = set.render(f, data);
    text.set(f, out);
    for (const doc of parseAllDocuments(out)) {
      if ('errors' in doc && doc.errors.length > 0) throw new Error(`${f}: rendered YAML: ${doc.errors.map((e) => e.message).join('; ')}\n${out}`);
      const js = doc.toJS() as K8s | null;
      if (js !== null) objects.push(js);
    }
  }
  text.set('NOTES.txt', set.render('NOTES.txt', data));
  return { objects, text };
}

const find = (objects: K8s[], kind: string, name?: string): K8s[] => objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
const one = (objects: K8s[], kind: string, name: string): K8s => {
  const found = find(objects, kind, name);
  assert.equal(found.length, 1, `${kind}/${name}`);
  return found[0]!;
};
const podTemplate = (o: K8s): PodTemplate => (o.spec as { template: PodTemplate }).template;
const subset = (small: Record<string, string>, big: Record<string, string>): boolean => Object.entries(small).every(([k, v]) => big[k] === v);

/** A ConfigIO that sees the pod's mounted files: Secret items and nothing else. */
function podIO(pod: PodSpec, container: Container): ConfigIO {
  const files = new Map<string, string>();
  for (const m of container.volumeMounts) {
    const vol = pod.volumes.find((v) => v.name === m.name);
    for (const item of vol?.secret?.items ?? []) {
      const text = SECRET[item.key];
      assert.ok(text !== undefined, `Secret key ${item.key} is not in the Secret the operator creates`);
      files.set(`${m.mountPath}/${item.path}`, `${text}\n`);
    }
  }
  return {
    env: {},
    readText: async (p) => {
      const t = files.get(p);
      if (t === undefined) throw Object.assign(new Error(`no file ${p} in the pod`), { code: 'ENOENT' });
      return t;
    },
  };
}

/** The config file a container's `--config` names, read from its ConfigMap mount. */
function mountedConfig(objects: K8s[], pod: PodSpec, container: Container): string {
  const path = container.args[container.args.indexOf('--config') + 1]!;
  const mount = container.volumeMounts.find((m) => path.startsWith(`${m.mountPath}/`));
  assert.ok(mount !== undefined, `${path} is not under a mount`);
  const vol = pod.volumes.find((v) => v.name === mount.name);
  assert.ok(vol?.configMap !== undefined, `${path} is not from a ConfigMap`);
  const text = one(objects, 'ConfigMap', vol.configMap.name).data?.[path.slice(mount.mountPath.length + 1)];
  assert.ok(text !== undefined, `ConfigMap ${vol.configMap.name} has no ${path}`);
  return text;
}

describe('deploy/helm/apfsds templates (static)', () => {
  it('Chart.yaml is an application chart v2 with versions', () => {
    assert.equal(chart.apiVersion, 'v2');
    assert.equal(chart.name, 'apfsds');
    assert.match(chart.version, /^\d+\.\d+\.\d+/);
    assert.match(chart.appVersion, /^\d+\.\d+\.\d+/);
  });

  it('every .Values path a template reads exists in values.yaml (also through $var aliases)', () => {
    const missing: string[] = [];
    const exists = (path: string[]): boolean => {
      let v: unknown = values;
      for (const k of path) {
        if (!isMap(v) || !(k in v)) return false;
        v = v[k];
      }
      return true;
    };
    for (const [file, src] of sources) {
      const aliases = new Map<string, string[]>();
      // `$h := .Values.handler` aliases a values subtree; `range $e := .Values.exits` does not
      // (it walks list items, whose fields are optional per item).
      for (const m of src.matchAll(/(range\s+)?(\$[A-Za-z_][A-Za-z0-9_]*)\s*:?=\s*\$?[A-Za-z_]*\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)\s*(?:-?\}\})/g)) {
        if (m[1] === undefined) aliases.set(m[2]!, m[3]!.slice(1).split('.'));
      }
      for (const m of src.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
        const path = m[1]!.slice(1).split('.');
        if (!exists(path)) missing.push(`${file}: .Values.${path.join('.')}`);
      }
      for (const [name, base] of aliases) {
        const re = new RegExp(`\\${name}((?:\\.[A-Za-z_][A-Za-z0-9_]*)+)`, 'g');
        for (const m of src.matchAll(re)) {
          const path = [...base, ...m[1]!.slice(1).split('.')];
          if (!exists(path)) missing.push(`${file}: ${name}${m[1]} = .Values.${path.join('.')}`);
        }
      }
    }
    assert.deepEqual(missing, []);
  });

  it('every include and template names a define', () => {
    const defined = new Set<string>();
    for (const src of sources.values()) for (const m of src.matchAll(/\{\{-?\s*define\s+"([^"]+)"/g)) defined.add(m[1]!);
    assert.ok(defined.has('apfsds.fullname') && defined.has('apfsds.handlerConfig'));
    const undefinedNames: string[] = [];
    for (const [file, src] of sources) {
      for (const m of src.matchAll(/\b(?:include|template)\s+"([^"]+)"/g)) if (!defined.has(m[1]!)) undefinedNames.push(`${file}: ${m[1]}`);
    }
    assert.deepEqual(undefinedNames, []);
  });

  it('actions, parentheses and blocks balance in every template', () => {
    for (const [file, src] of sources) {
      const opens = src.split('{{').length - 1;
      const closes = src.split('}}').length - 1;
      assert.equal(opens, closes, `${file}: {{ and }}`);
      for (const action of src.matchAll(/\{\{(.*?)\}\}/gs)) {
        const body = action[1]!.replace(/"(?:[^"\\]|\\.)*"/g, '');
        assert.equal(body.split('(').length, body.split(')').length, `${file}: parentheses in {{${action[1]}}}`);
      }
      // The renderer's parser refuses unclosed or stray if/range/with/define blocks.
      assert.doesNotThrow(() => new TemplateSet().add(file, src), file);
    }
  });

  it('values.yaml holds exits us/eu/asia with weights 1/1/2, asia in reverse mode', () => {
    const exits = values['exits'] as { id: string; region: string; weight: number; mode: string }[];
    assert.deepEqual(exits.map((e) => [e.id, e.region, e.weight, e.mode]), [
      ['exit-us', 'us', 1, 'dial'],
      ['exit-eu', 'eu', 1, 'dial'],
      ['exit-asia', 'asia', 2, 'reverse'],
    ]);
    assert.equal((values['handler'] as Obj)['replicas'], 3);
  });
});

describe('deploy/helm/apfsds rendered', () => {
  const { objects, text } = render(testValues());
  const sts = one(objects, 'StatefulSet', 'apfsds-handler');
  const stsPod = podTemplate(sts);
  const handlerContainer = stsPod.spec.containers[0]!;
  const deployments = find(objects, 'Deployment');

  it('renders a handler StatefulSet, its services, PDB and ConfigMap, and one Deployment per exit', () => {
    assert.deepEqual(find(objects, 'Service').map((s) => s.metadata.name).sort(), [
      'apfsds-exit-asia',
      'apfsds-exit-eu',
      'apfsds-exit-us',
      'apfsds-handler',
      'apfsds-handler-admin',
      'apfsds-handler-peers',
    ]);
    assert.deepEqual(deployments.map((d) => d.metadata.name), ['apfsds-exit-us', 'apfsds-exit-eu', 'apfsds-exit-asia']);
    assert.equal(find(objects, 'PodDisruptionBudget').length, 1);
    assert.equal(find(objects, 'ServiceMonitor').length, 0, 'off by default');
    assert.equal(find(objects, 'NetworkPolicy').length, 0, 'off by default');
    for (const o of objects) {
      assert.ok(typeof o.apiVersion === 'string' && typeof o.kind === 'string', JSON.stringify(o.metadata));
      assert.match(o.metadata.name, /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, `${o.kind} name`);
      assert.equal(o.metadata.labels?.['app.kubernetes.io/instance'], 'apfsds');
    }
    assert.match(text.get('NOTES.txt') ?? '', /exit-asia \(asia\): weight 2, mode reverse/);
  });

  it('handlers: 3 replicas started together, headless peers published before ready, raft data on a PVC', () => {
    const spec = sts.spec as { replicas: number; podManagementPolicy: string; serviceName: string; selector: { matchLabels: Record<string, string> }; volumeClaimTemplates: { metadata: { name: string } }[] };
    assert.equal(spec.replicas, 3);
    assert.equal(spec.podManagementPolicy, 'Parallel');
    assert.ok(subset(spec.selector.matchLabels, stsPod.metadata.labels));
    const peers = one(objects, 'Service', spec.serviceName).spec as { clusterIP: string; publishNotReadyAddresses: boolean };
    assert.equal(peers.clusterIP, 'None');
    assert.equal(peers.publishNotReadyAddresses, true);
    assert.deepEqual(spec.volumeClaimTemplates.map((v) => v.metadata.name), ['data']);
    assert.ok(handlerContainer.volumeMounts.some((m) => m.name === 'data' && m.mountPath === '/var/lib/apfsds'));
  });

  it('every pod: an existing subcommand run by the image ENTRYPOINT, probes on /health and /ready by port name, mounts of real volumes, only raft data writable, hardened', () => {
    for (const w of [sts, ...deployments]) {
      const pod = podTemplate(w);
      const c = pod.spec.containers[0]!;
      assert.ok(CLI_COMMANDS.includes(c.args[0]!), `${w.metadata.name}: ${c.args[0]}`);
      const portNames = new Set(c.ports.map((p) => p.name));
      for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
        assert.ok(probe !== undefined && portNames.has(probe.httpGet.port), `${w.metadata.name}: probe port`);
      }
      assert.equal(c.livenessProbe.httpGet.path, '/health');
      const volumeNames = new Set([...pod.spec.volumes.map((v) => v.name), ...(w.kind === 'StatefulSet' ? ['data'] : [])]);
      for (const m of c.volumeMounts) assert.ok(volumeNames.has(m.name), `${w.metadata.name}: volume ${m.name}`);
      // The image's ENTRYPOINT (node dist/cli/main.js) runs the args; nothing else is writable
      // under the read-only root than the handler's raft data.
      assert.equal(c.command, undefined, `${w.metadata.name}: command overrides the image ENTRYPOINT`);
      const writable = c.volumeMounts.filter((m) => m.readOnly !== true).map((m) => m.name);
      assert.deepEqual(writable, w.kind === 'StatefulSet' ? ['data'] : [], `${w.metadata.name}: writable mounts`);
      assert.equal(c.securityContext['readOnlyRootFilesystem'], true);
      assert.equal(c.securityContext['allowPrivilegeEscalation'], false);
      assert.equal(pod.spec.securityContext['runAsNonRoot'], true);
      assert.equal(pod.spec.securityContext['runAsUser'], 10001, 'the image user');
      assert.match(pod.metadata.annotations?.['checksum/config'] ?? '', /^[0-9a-f]{64}$/);
    }
    assert.equal(handlerContainer.readinessProbe.httpGet.path, '/ready');
    const readiness = Object.fromEntries(deployments.map((d) => [d.metadata.name, podTemplate(d).spec.containers[0]!.readinessProbe.httpGet.path]));
    assert.deepEqual(readiness, { 'apfsds-exit-us': '/health', 'apfsds-exit-eu': '/health', 'apfsds-exit-asia': '/ready' });
  });

  it('every Service selects pods and targets ports those pods name', () => {
    const pods = [sts, ...deployments].map(podTemplate);
    for (const svc of find(objects, 'Service')) {
      const spec = svc.spec as { selector: Record<string, string>; ports: { name: string; targetPort: string }[] };
      const selected = pods.filter((p) => subset(spec.selector, p.metadata.labels));
      assert.ok(selected.length > 0, `${svc.metadata.name} selects no pod`);
      for (const p of spec.ports) {
        for (const pod of selected) assert.ok(pod.spec.containers[0]!.ports.some((cp) => cp.name === p.targetPort), `${svc.metadata.name}: ${p.targetPort}`);
      }
    }
    const exitSvc = one(objects, 'Service', 'apfsds-exit-us').spec as { publishNotReadyAddresses: boolean; selector: Record<string, string> };
    assert.equal(exitSvc.publishNotReadyAddresses, true);
    assert.ok(!subset(exitSvc.selector, podTemplate(one(objects, 'Deployment', 'apfsds-exit-eu')).metadata.labels), 'each exit Service selects its own exit');
  });

  it('the rendered handler.yaml loads for every pod name, with the keys the Secret mounts', async () => {
    const text = mountedConfig(objects, stsPod.spec, handlerContainer);
    const env = handlerContainer.env?.find((e) => e.name === 'APFSDS_HANDLER__NODE_ID');
    assert.deepEqual(env?.valueFrom, { fieldRef: { fieldPath: 'metadata.name' } });
    for (const pod of ['apfsds-handler-0', 'apfsds-handler-1', 'apfsds-handler-2']) {
      const config = validateConfig('handler', parseConfigText(text), { env: { APFSDS_HANDLER__NODE_ID: pod } });
      await resolveSecrets(config, podIO(stsPod.spec, handlerContainer));
      assert.equal(config.nodeId, pod);
      assert.equal(config.clusterKey.publicKey.toBase64Url(), cluster.pub);
      assert.equal(config.admin.token?.value, ADMIN_TOKEN);
    }
  });

  it('raft peers, exit URLs and reverse handler URLs name the rendered Services and ports', async () => {
    const h = validateConfig('handler', parseConfigText(mountedConfig(objects, stsPod.spec, handlerContainer)), { env: { APFSDS_HANDLER__NODE_ID: 'apfsds-handler-0' } });
    const portOf = (c: Container, name: string): number => c.ports.find((p) => p.name === name)!.containerPort;
    assert.deepEqual(h.raft.peers.map((p) => p.id), ['apfsds-handler-0', 'apfsds-handler-1', 'apfsds-handler-2']);
    for (const p of h.raft.peers) {
      const url = new URL(p.url);
      assert.equal(url.hostname, `${p.id}.apfsds-handler-peers.tunnel.svc.cluster.local`);
      assert.equal(Number(url.port), portOf(handlerContainer, 'raft'));
    }
    assert.equal(h.listen.port, portOf(handlerContainer, 'public'));
    assert.equal(h.admin.port, portOf(handlerContainer, 'admin'));
    assert.deepEqual(h.exits.map((e) => [e.id, e.region, e.weight, e.mode]), [
      ['exit-us', 'us', 1, 'dial'],
      ['exit-eu', 'eu', 1, 'dial'],
      ['exit-asia', 'asia', 2, 'reverse'],
    ]);
    for (const d of deployments) {
      const pod = podTemplate(d).spec;
      const c = pod.containers[0]!;
      const exit: ConfigFor<'exit'> = validateConfig('exit', parseConfigText(mountedConfig(objects, pod, c)));
      await resolveSecrets(exit, podIO(pod, c));
      const entry = h.exits.find((e) => e.id === exit.id)!;
      assert.equal(exit.key.publicKey.toBase64Url(), entry.publicKey.toBase64Url(), `${exit.id}: the Secret's key matches the registered public key`);
      assert.equal(exit.clusterPublicKey.toBase64Url(), cluster.pub);
      assert.equal(exit.status.port, portOf(c, 'status'));
      assert.equal(exit.status.host, '0.0.0.0');
      if (entry.mode === 'dial') {
        const url = new URL(entry.url!);
        const svc = one(objects, 'Service', d.metadata.name);
        assert.equal(url.hostname, `${svc.metadata.name}.tunnel.svc.cluster.local`);
        assert.equal(Number(url.port), (svc.spec as { ports: { name: string; port: number }[] }).ports.find((p) => p.name === 'link')!.port);
        assert.equal(url.pathname, exit.listen?.path);
        assert.equal(exit.listen?.port, portOf(c, 'link'));
      } else {
        assert.deepEqual(exit.handlers, h.raft.peers.map((p) => `ws://${p.id}.apfsds-handler-peers.tunnel.svc.cluster.local:${h.listen.port}${h.links.path}`));
      }
    }
  });

  it('handler.config and an exit config merge over the rendered files, and change the checksum', () => {
    const changed = render(testValues({ handler: { config: { limits: { maxStreamsPerSession: 64 }, users: [{ id: 'alice', publicKey: cluster.pub }] } } })).objects;
    const s = one(changed, 'StatefulSet', 'apfsds-handler');
    const h = validateConfig('handler', parseConfigText(mountedConfig(changed, podTemplate(s).spec, podTemplate(s).spec.containers[0]!)), { env: { APFSDS_HANDLER__NODE_ID: 'apfsds-handler-0' } });
    assert.equal(h.limits.maxStreamsPerSession, 64);
    assert.deepEqual(h.users.map((u) => u.id), ['alice']);
    assert.notEqual(podTemplate(s).metadata.annotations?.['checksum/config'], stsPod.metadata.annotations?.['checksum/config']);
  });

  it('TLS from a kubernetes.io/tls Secret makes reverse exits dial wss://', () => {
    const withTls = render(testValues({ handler: { tls: { secretName: 'apfsds-tls' } } })).objects;
    const s = one(withTls, 'StatefulSet', 'apfsds-handler');
    const pod = podTemplate(s).spec;
    const h = validateConfig('handler', parseConfigText(mountedConfig(withTls, pod, pod.containers[0]!)), { env: { APFSDS_HANDLER__NODE_ID: 'apfsds-handler-0' } });
    assert.deepEqual(h.tls, { certFile: '/etc/apfsds/tls/tls.crt', keyFile: '/etc/apfsds/tls/tls.key' });
    assert.ok(pod.volumes.some((v) => v.secret?.secretName === 'apfsds-tls'));
    const asia = one(withTls, 'Deployment', 'apfsds-exit-asia');
    const exit = validateConfig('exit', parseConfigText(mountedConfig(withTls, podTemplate(asia).spec, podTemplate(asia).spec.containers[0]!)));
    assert.ok(exit.handlers.every((u) => u.startsWith('wss://')));
  });

  it('ServiceMonitors and NetworkPolicies, when enabled, use ports the selected objects name', () => {
    const on = render(testValues({ metrics: { serviceMonitor: { enabled: true } }, networkPolicy: { enabled: true, metricsFrom: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }] } })).objects;
    const services = find(on, 'Service');
    const monitors = find(on, 'ServiceMonitor');
    assert.equal(monitors.length, 2);
    for (const m of monitors) {
      const spec = m.spec as { jobLabel: string; selector: { matchLabels: Record<string, string> }; endpoints: { port: string }[] };
      const selected = services.filter((s) => subset(spec.selector.matchLabels, s.metadata.labels ?? {}));
      assert.ok(selected.length > 0, m.metadata.name);
      for (const s of selected) {
        assert.ok(['apfsds-handler', 'apfsds-exit'].includes(s.metadata.labels?.[spec.jobLabel] ?? ''), 'job label as the alerts expect');
        for (const e of spec.endpoints) assert.ok((s.spec as { ports: { name: string }[] }).ports.some((p) => p.name === e.port), `${s.metadata.name}: ${e.port}`);
      }
    }
    const pods = [one(on, 'StatefulSet', 'apfsds-handler'), ...find(on, 'Deployment')].map(podTemplate);
    const policies = find(on, 'NetworkPolicy');
    assert.equal(policies.length, 2);
    for (const p of policies) {
      const spec = p.spec as { podSelector: { matchLabels: Record<string, string> }; ingress: { ports: { port: string }[] }[] };
      const selected = pods.filter((pod) => subset(spec.podSelector.matchLabels, pod.metadata.labels));
      assert.ok(selected.length > 0, p.metadata.name);
      for (const port of spec.ingress.flatMap((i) => i.ports.map((x) => x.port))) {
        assert.ok(selected.some((pod) => pod.spec.containers[0]!.ports.some((cp) => cp.name === port)), `${p.metadata.name}: ${port}`);
      }
    }
  });

  it('refuses to render without the session path, a link path, the linksPath for reverse exits or a public key', () => {
    assert.throws(() => render(testValues({ handler: { path: '' } })), /handler\.path is required/);
    assert.throws(() => render(testValues({ handler: { linksPath: '' } })), /handler\.linksPath is required/);
    assert.throws(() => render(testValues({ clusterPublicKey: '' })), /clusterPublicKey is required/);
    const noKey = testValues();
    (noKey['exits'] as Obj[])[0]!['publicKey'] = '';
    assert.throws(() => render(noKey), /exit-us needs publicKey/);
    const noLink = testValues();
    (noLink['exits'] as Obj[])[1]!['linkPath'] = '';
    assert.throws(() => render(noLink), /exit-eu \(mode dial\) needs linkPath/);
  });

  it('an exit with deploy: false is registered on the handlers but not run', () => {
    const vals = testValues();
    (vals['exits'] as Obj[])[0]!['deploy'] = false;
    (vals['exits'] as Obj[])[0]!['url'] = 'wss://exit-us.example.net:8443/link-exit-us';
    const out = render(vals).objects;
    assert.deepEqual(find(out, 'Deployment').map((d) => d.metadata.name), ['apfsds-exit-eu', 'apfsds-exit-asia']);
    const s = one(out, 'StatefulSet', 'apfsds-handler');
    const h = validateConfig('handler', parseConfigText(mountedConfig(out, podTemplate(s).spec, podTemplate(s).spec.containers[0]!)), { env: { APFSDS_HANDLER__NODE_ID: 'apfsds-handler-0' } });
    assert.equal(h.exits[0]?.url, 'wss://exit-us.example.net:8443/link-exit-us');
  });
});

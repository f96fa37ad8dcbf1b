import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry, EXPOSITION_CONTENT_TYPE } from '../../../shared/metrics/registry.ts';
import { createApiApp } from '../../../handler/api/app.ts';
import { raftReadiness, readinessOf } from '../../../handler/api/readiness.ts';
import type { ClusterStatus, Readiness } from '../../../handler/api/types.ts';
import { makeApp, STATUS } from './fixtures.ts';

test('/health answers 200 whatever readiness says', async () => {
  const { app } = makeApp({ readiness: () => ({ ready: false, reason: 'no raft leader' }) });
  const res = await app.request('/health');
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 'ok' });
});

test('/ready answers 503 with the reason until the check passes, then 200', async () => {
  let state: Readiness = { ready: false, reason: 'no raft leader' };
  const { app } = makeApp({ readiness: async () => state });
  const before = await app.request('/ready');
  assert.equal(before.status, 503);
  assert.deepEqual(await before.json(), { ready: false, reason: 'no raft leader' });
  state = { ready: true };
  const after = await app.request('/ready');
  assert.equal(after.status, 200);
  assert.deepEqual(await after.json(), { ready: true });
});

test('/ready answers 503 when the readiness check throws', async () => {
  const { app } = makeApp({
    readiness: () => {
      throw new Error('boom');
    },
  });
  const res = await app.request('/ready');
  assert.equal(res.status, 503);
  assert.equal(((await res.json()) as { ready: boolean }).ready, false);
});

test('readiness from the cluster status needs a leader and an applied state', async () => {
  assert.deepEqual(readinessOf(STATUS), { ready: true });
  assert.equal(readinessOf({ ...STATUS, leader: null }).ready, false);
  assert.equal(readinessOf({ ...STATUS, commitIndex: 5000, appliedIndex: 10 }).ready, false);
  assert.equal(readinessOf({ ...STATUS, commitIndex: 20, appliedIndex: 10 }, { maxApplyLag: 10 }).ready, true);
  let status: ClusterStatus = { ...STATUS, leader: null };
  const { app } = makeApp({ readiness: raftReadiness(() => status) });
  assert.equal((await app.request('/ready')).status, 503);
  status = { ...STATUS };
  assert.equal((await app.request('/ready')).status, 200);
});

test('/metrics serves the registry as Prometheus text 0.0.4', async () => {
  const registry = new Registry();
  registry.counter({ name: 'apfsds_test_total', help: 'A test counter.' }).inc(3);
  const { app } = makeApp({ registry });
  const res = await app.request('/metrics');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), EXPOSITION_CONTENT_TYPE);
  assert.match(res.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  assert.match(text, /^# HELP apfsds_test_total A test counter\.$/m);
  assert.match(text, /^apfsds_test_total 3$/m);
});

test('the metrics path follows the config, and without a registry or admin there are no such routes', async () => {
  const registry = new Registry();
  const custom = createApiApp({ readiness: () => ({ ready: true }), metrics: { registry, path: '/stats' } });
  assert.equal((await custom.request('/stats')).status, 200);
  assert.equal((await custom.request('/metrics')).status, 404);
  const bare = createApiApp({ readiness: () => ({ ready: true }) });
  assert.equal((await bare.request('/metrics')).status, 404);
  const res = await bare.request('/admin/v1/users');
  assert.equal(res.status, 404);
  assert.equal(res.headers.get('content-type'), 'application/json');
});

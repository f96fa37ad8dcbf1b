/** Shared helpers for the API tests: an app over a LocalStateStore, a fake cluster, requests. */
import { encodeBase64Url } from '../../../shared/config/base64url.ts';
import { Registry } from '../../../shared/metrics/registry.ts';
import { createApiApp } from '../../../handler/api/app.ts';
import type { AdminDeps, ApiDeps, ClusterControl, ClusterStatus, Readiness } from '../../../handler/api/types.ts';
import { LocalStateStore } from '../../../handler/state/store.ts';
import type { Command } from '../../../handler/state/commands.ts';
import type { ApplyResult } from '../../../handler/state/types.ts';

/** The admin token the test apps accept. */
export const TOKEN = 'test-admin-token-0123456789';

/** A fixed, valid 32-byte key as base64url: every byte is `n`. */
export const key = (n: number): string => encodeBase64Url(new Uint8Array(32).fill(n));

/** A cluster status of a three-node cluster led by h1. */
export const STATUS: ClusterStatus = {
  nodeId: 'h1',
  role: 'leader',
  term: 3,
  leader: 'h1',
  commitIndex: 10,
  appliedIndex: 10,
  members: [
    { id: 'h1', url: 'wss://h1.internal:7443', suffrage: 'voter', matchIndex: 10, active: true },
    { id: 'h2', url: 'wss://h2.internal:7443', suffrage: 'voter', matchIndex: 10, active: true },
    { id: 'h3', url: 'wss://h3.internal:7443', suffrage: 'learner', matchIndex: 9, active: true },
  ],
};

/** A ClusterControl that records calls and can be told to fail. */
export function fakeControl(): ClusterControl & { calls: string[]; failWith: Error | undefined } {
  const self = {
    calls: [] as string[],
    failWith: undefined as Error | undefined,
    async addMember(m: { id: string; url: string }) {
      self.calls.push(`addMember ${m.id} ${m.url}`);
      if (self.failWith) throw self.failWith;
    },
    async addLearner(m: { id: string; url: string }) {
      self.calls.push(`addLearner ${m.id} ${m.url}`);
      if (self.failWith) throw self.failWith;
    },
    async promoteLearner(id: string) {
      self.calls.push(`promoteLearner ${id}`);
      if (self.failWith) throw self.failWith;
    },
    async removeMember(id: string) {
      self.calls.push(`removeMember ${id}`);
      if (self.failWith) throw self.failWith;
    },
    async transferLeadership(to: string | undefined) {
      self.calls.push(`transferLeadership ${to ?? '(any)'}`);
      if (self.failWith) throw self.failWith;
    },
  };
  return self;
}

/** A LocalStateStore that counts fresh reads and can be told to reject proposals. */
export class CountingStore extends LocalStateStore {
  reads = 0;
  proposals = 0;
  rejectWith: Error | undefined;

  override propose(command: Command, signal?: AbortSignal): Promise<ApplyResult> {
    this.proposals++;
    if (this.rejectWith !== undefined) return Promise.reject(this.rejectWith);
    return super.propose(command, signal);
  }

  override read(signal?: AbortSignal): Promise<void> {
    this.reads++;
    if (this.rejectWith !== undefined) return Promise.reject(this.rejectWith);
    return super.read(signal);
  }
}

/** Builds an app with a fresh store; `admin` and top-level fields override the defaults. */
export function makeApp(
  options: {
    admin?: Partial<AdminDeps>;
    /** Leave out the cluster status provider and control. */
    noCluster?: boolean;
    readiness?: () => Readiness | Promise<Readiness>;
    registry?: Registry;
  } = {},
) {
  const store = new CountingStore();
  const control = fakeControl();
  const registry = options.registry ?? new Registry();
  const deps: ApiDeps = {
    readiness: options.readiness ?? (() => ({ ready: true })),
    metrics: { registry },
    admin: {
      token: TOKEN,
      store,
      ...(options.noCluster === true ? {} : { cluster: { status: () => STATUS }, control }),
      ...options.admin,
    },
  };
  const app = createApiApp(deps);
  /** Sends an authorised admin request; `body` objects are sent as JSON. */
  const admin = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    app.request(`/admin/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  return { app, store, control, registry, admin };
}

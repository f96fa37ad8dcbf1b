/**
 * What the handler's HTTP API needs from the rest of the handler. Everything is injected, so
 * the app runs unchanged on Node and Deno, in tests through app.request(), and against the
 * LocalStateStore now and the Raft-backed store later.
 */
import type { Logger } from '../../shared/log.ts';
import type { Registry } from '../../shared/metrics/registry.ts';
import type { Role } from '../raft/types.ts';
import type { ExitSnapshot } from '../routing/types.ts';
import type { StateStore } from '../state/store.ts';

/** Answer of a readiness check: "can serve" (ARCHITECTURE 8). */
export type Readiness = { readonly ready: true } | { readonly ready: false; readonly reason: string };

/** One member of the Raft cluster as the status reports it. */
export type ClusterMember = {
  readonly id: string;
  /** Peer URL, when known. */
  readonly url: string | null;
  readonly suffrage: 'voter' | 'learner';
  /** Highest log index known replicated on the member; known on the leader only. */
  readonly matchIndex: number | null;
  /** Whether the leader heard from the member recently; known on the leader only. */
  readonly active: boolean | null;
};

/** This node's view of the Raft cluster. */
export type ClusterStatus = {
  readonly nodeId: string;
  readonly role: Role;
  readonly term: number;
  /** The known leader, or null while there is none. */
  readonly leader: string | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly members: readonly ClusterMember[];
};

/** Source of the cluster status (the Raft driver). */
export interface ClusterStatusProvider {
  status(): ClusterStatus | Promise<ClusterStatus>;
}

/** A node joining the cluster. */
export type NewMember = { readonly id: string; readonly url: string };

/**
 * Membership and leadership operations, one server at a time (Raft thesis 4.1, 3.10). Each
 * resolves once the change is committed (or the transfer done) and rejects with a coded error:
 * NOT_LEADER, CONF_CHANGE_REJECTED (e.g. another change is pending, or removing the last
 * voter), TRANSFER_REJECTED, TIMEOUT or ABORTED.
 */
export interface ClusterControl {
  /** Adds a voter. */
  addMember(member: NewMember, signal?: AbortSignal): Promise<void>;
  /** Adds a non-voting learner that catches up before it is promoted. */
  addLearner(member: NewMember, signal?: AbortSignal): Promise<void>;
  /** Makes a caught-up learner a voter. */
  promoteLearner(id: string, signal?: AbortSignal): Promise<void>;
  /** Removes a voter or learner. */
  removeMember(id: string, signal?: AbortSignal): Promise<void>;
  /** Hands leadership to `to`, or to the most up-to-date voter when absent. */
  transferLeadership(to: string | undefined, signal?: AbortSignal): Promise<void>;
}

/** A fresh X25519 key pair (raw 32-byte keys). */
export type KeyPairBytes = { readonly privateKey: Uint8Array; readonly publicKey: Uint8Array };

/** Dependencies of the admin endpoints under /admin/v1. */
export type AdminDeps = {
  /** Bearer token; compared in constant time. */
  readonly token: string;
  readonly store: StateStore;
  /** Absent: GET /cluster answers 501. */
  readonly cluster?: ClusterStatusProvider;
  /** Absent: member operations answer 501. */
  readonly control?: ClusterControl;
  /** Live exit health from the router, merged into exit listings. */
  readonly exitHealth?: () => readonly ExitSnapshot[];
  /** Key generation for users created without a key; default X25519 from a CSPRNG. */
  readonly generateKeyPair?: () => KeyPairBytes;
  /** The token comparison; default constantTimeEqual (tests inject a spy). */
  readonly equals?: (a: Uint8Array, b: Uint8Array) => boolean;
  /** Largest request body in bytes; default 65536. */
  readonly bodyLimit?: number;
  /** Deadline for proposals, fresh reads and cluster operations, in ms; default 10000. */
  readonly timeoutMs?: number;
};

/** Dependencies of the whole API app. */
export type ApiDeps = {
  /** Decides GET /ready. */
  readonly readiness: () => Readiness | Promise<Readiness>;
  /** Absent: no metrics endpoint. */
  readonly metrics?: { readonly registry: Registry; readonly path?: string };
  /** Absent: no admin endpoints (every /admin path answers 404). */
  readonly admin?: AdminDeps;
  readonly logger?: Logger;
};

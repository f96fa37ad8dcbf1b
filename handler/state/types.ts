/**
 * Shapes of the replicated control state (ARCHITECTURE 4): users, exits, usage, revocations and
 * cluster settings, plus the results and events of applying commands. Records are frozen
 * snapshots: a change replaces the record, so a reader may keep one without copying.
 */
import type { ErrorCodeValue } from '../../shared/errors.ts';
import type { ExitAdminState, ExitDescriptor } from '../routing/types.ts';

/** Whether a user may open sessions (an operator decision; quota is checked separately). */
export type UserStatus = 'active' | 'disabled';

/** A user as every handler sees it. */
export type UserRecord = {
  readonly id: string;
  /** X25519 public key, unpadded base64url (43 characters). */
  readonly publicKey: string;
  readonly status: UserStatus;
  /** Total bytes allowed, both directions; null = unlimited. */
  readonly quota: number | null;
  /** Bytes used so far, both directions (sum of the usage counters). */
  readonly used: number;
  /** Bytes per second; null = the cluster default (settings, then config limits). */
  readonly rateLimit: number | null;
  /** Regions this user may exit in; null = every region, an empty list = none. */
  readonly allowedRegions: readonly string[] | null;
  /** Concurrent sessions; null = the cluster default (settings, then config limits). */
  readonly maxSessions: number | null;
};

/** Per-user usage counters; "up" is toward the internet, "down" toward the app. */
export type UsageRecord = {
  readonly userId: string;
  readonly up: number;
  readonly down: number;
};

/** How a handler reaches an exit: it dials the exit, or the exit dials in (behind NAT). */
export type ExitMode = 'dial' | 'reverse';

/** An exit as every handler sees it; a routing ExitDescriptor plus how to link to it. */
export type ExitRecord = ExitDescriptor & {
  readonly state: ExitAdminState;
  /** wss:// link URL including the exit's secret path; null for reverse-mode exits. */
  readonly url: string | null;
  /** X25519 public key of the exit, unpadded base64url. */
  readonly publicKey: string;
  readonly mode: ExitMode;
};

/** Settings shared by the whole cluster. */
export type ClusterSettings = {
  /** Default per-user bandwidth in bytes/s for users without rateLimit; null = config limits. */
  readonly defaultRateLimit: number | null;
  /** Default concurrent sessions for users without maxSessions; null = config limits. */
  readonly defaultMaxSessions: number | null;
  /** How often each handler proposes its aggregated usage deltas, in milliseconds. */
  readonly usageReportInterval: number;
  /** Whether a stream whose preferred region has no usable exit fails instead of falling back. */
  readonly strictRegion: boolean;
};

/** A revoked public key: it no longer identifies anyone and cannot be assigned again. */
export type RevocationRecord = {
  readonly publicKey: string;
  readonly reason: string;
};

/** An error found while applying a command; plain data, so every replica records the same. */
export type ApplyError = {
  readonly code: ErrorCodeValue;
  readonly message: string;
  /** Dotted path of the offending field, e.g. "deltas.2.up", when a field is at fault. */
  readonly field?: string;
};

/** The outcome of applying one log entry. apply() never throws; it answers with this. */
export type ApplyResult =
  | {
      readonly ok: true;
      readonly index: number;
      /**
       * The entry changed nothing on purpose: a usage batch already counted, an empty (no-op)
       * entry, or an index at or below the applied index.
       */
      readonly noop?: 'duplicate' | 'empty' | 'stale_index';
    }
  | { readonly ok: false; readonly index: number; readonly error: ApplyError };

/** Why a user can no longer open sessions; the gateway closes the user's open sessions. */
export type BlockReason = 'disabled' | 'deleted' | 'key_revoked' | 'key_changed' | 'quota';

/** What changed after an apply or restore. Listeners run after the state is updated. */
export type StateEvent =
  /** The user's sessions must close everywhere (also sent for a key change: old-key sessions). */
  | { readonly type: 'userDisabled'; readonly id: string; readonly reason: BlockReason }
  /** A user was created, changed, or removed (`user` undefined). Not sent for usage alone. */
  | { readonly type: 'userChanged'; readonly id: string; readonly user: UserRecord | undefined }
  /** An exit was created, changed, or removed (`exit` undefined): re-weight the router now. */
  | { readonly type: 'exitChanged'; readonly id: string; readonly exit: ExitRecord | undefined }
  | { readonly type: 'settingsChanged'; readonly settings: ClusterSettings }
  /** A snapshot replaced the state; the events above describing the difference follow it. */
  | { readonly type: 'restored'; readonly appliedIndex: number };

/** Receives state events. */
export type StateListener = (event: StateEvent) => void;

/** Result of checking whether a client key may open a session. */
export type Admission =
  | { readonly ok: true; readonly user: UserRecord }
  | { readonly ok: false; readonly reason: 'unknown' | 'revoked' }
  | { readonly ok: false; readonly reason: 'disabled' | 'quota'; readonly user: UserRecord };

/** The gateway's view of users. */
export interface UserDirectory {
  /** The user holding this public key (raw 32 bytes or base64url); undefined when unknown or revoked. */
  byPublicKey(publicKey: Uint8Array | string): UserRecord | undefined;
  get(id: string): UserRecord | undefined;
  /** Whether this key may open a session now, and if not, why. */
  admit(publicKey: Uint8Array | string): Admission;
  /** Users in id order, starting after `after`, at most `limit` (default 100, max 1000). */
  list(options?: { readonly after?: string; readonly limit?: number }): UserRecord[];
  usage(id: string): UsageRecord | undefined;
  readonly size: number;
}

/** The router's and link pool's view of exits. */
export interface ExitRegistry {
  get(id: string): ExitRecord | undefined;
  /** The exit holding this public key (reverse-mode exits authenticate by key). */
  byPublicKey(publicKey: Uint8Array | string): ExitRecord | undefined;
  /** Every exit in id order. */
  list(): ExitRecord[];
  /** Every exit as routing descriptors, for ExitSelector.setExits. */
  descriptors(): ExitDescriptor[];
  readonly size: number;
}

/** Read side of the state: what the gateway, router, links and admin API consult. */
export interface StateView {
  readonly users: UserDirectory;
  readonly exits: ExitRegistry;
  settings(): ClusterSettings;
  /** Highest usage batch sequence applied from this handler (0 if none), to resume after restart. */
  usageWatermark(handlerId: string): number;
  /** Every usage watermark, by handler id, in id order. */
  usageWatermarks(): Array<readonly [string, number]>;
  isRevoked(publicKey: Uint8Array | string): boolean;
  /** Revocations in key order, starting after `after`, at most `limit` (default 100, max 1000). */
  revocations(options?: { readonly after?: string; readonly limit?: number }): RevocationRecord[];
  /** Index of the last log entry applied (0 before any). */
  readonly appliedIndex: number;
  /** Registers a listener; returns the function that removes it. */
  subscribe(listener: StateListener): () => void;
}

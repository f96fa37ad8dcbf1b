/**
 * The admin routes' resolved dependencies: defaults filled in once, and a logger that records
 * what an operator changed (ids and ops only; keys and tokens never reach it).
 */
import { x25519 } from '@noble/curves/ed25519.js';
import type { Logger } from '../../shared/log.ts';
import type { StateStore } from '../state/store.ts';
import type { StateView } from '../state/types.ts';
import type { AdminDeps, ClusterControl, ClusterStatusProvider, KeyPairBytes } from './types.ts';
import type { ExitSnapshot } from '../routing/types.ts';

/** Default deadline of proposals, fresh reads and cluster operations. */
export const DEFAULT_ADMIN_TIMEOUT_MS = 10_000;
/** Default largest request body. */
export const DEFAULT_BODY_LIMIT = 65_536;

/** What every admin route module receives. */
export type AdminContext = {
  readonly store: StateStore;
  readonly view: StateView;
  readonly timeoutMs: number;
  readonly cluster: ClusterStatusProvider | undefined;
  readonly control: ClusterControl | undefined;
  readonly exitHealth: (() => readonly ExitSnapshot[]) | undefined;
  readonly generateKeyPair: () => KeyPairBytes;
  /** Records an applied admin change. */
  audit(op: string, fields: Readonly<Record<string, string | number | boolean>>): void;
};

/** X25519 key pair from the runtime's CSPRNG (RFC 7748 section 6.1). */
export function randomKeyPair(): KeyPairBytes {
  const { secretKey, publicKey } = x25519.keygen();
  return { privateKey: secretKey, publicKey };
}

/** Fills in defaults. */
export function resolveAdmin(deps: AdminDeps, logger: Logger | undefined): AdminContext {
  const log = logger?.child({ component: 'admin' });
  return {
    store: deps.store,
    view: deps.store.view,
    timeoutMs: deps.timeoutMs ?? DEFAULT_ADMIN_TIMEOUT_MS,
    cluster: deps.cluster,
    control: deps.control,
    exitHealth: deps.exitHealth,
    generateKeyPair: deps.generateKeyPair ?? randomKeyPair,
    audit(op, fields) {
      log?.info({ op, ...fields }, `admin ${op}`);
    },
  };
}

/**
 * Read views over the state for the gateway (UserDirectory), the router and link pool
 * (ExitRegistry). They read through a getter because restore() swaps the whole state.
 * Lookups are map hits; only paging sorts, and the sorted ids are cached.
 */
import { admissible, byCodeUnit, keyText, quotaExhausted, sortedUserIds, startAfter, type State } from './model.ts';
import type { ExitDescriptor } from '../routing/types.ts';
import type { Admission, ExitRecord, ExitRegistry, UserDirectory, UserRecord } from './types.ts';

/** Page size when none is given, and the largest allowed. */
export const PAGE = { default: 100, max: 1000 } as const;

/** Clamps a requested page size to 1..PAGE.max. */
export function pageSize(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return PAGE.default;
  return Math.min(PAGE.max, Math.max(1, Math.floor(limit)));
}

/** The gateway's view of users. */
export function createUserDirectory(get: () => State): UserDirectory {
  const byKey = (publicKey: Uint8Array | string): UserRecord | undefined => {
    const s = get();
    const key = keyText(publicKey);
    if (s.revocations.has(key)) return undefined;
    const id = s.userKeys.get(key);
    return id === undefined ? undefined : s.users.get(id);
  };
  return {
    byPublicKey: byKey,
    get: (id) => get().users.get(id),
    admit(publicKey): Admission {
      const s = get();
      const key = keyText(publicKey);
      if (s.revocations.has(key)) return { ok: false, reason: 'revoked' };
      const id = s.userKeys.get(key);
      const user = id === undefined ? undefined : s.users.get(id);
      if (user === undefined) return { ok: false, reason: 'unknown' };
      if (admissible(s, user)) return { ok: true, user };
      return { ok: false, reason: quotaExhausted(user) && user.status === 'active' ? 'quota' : 'disabled', user };
    },
    list(options = {}) {
      const s = get();
      const ids = sortedUserIds(s);
      const from = startAfter(ids, options.after);
      return ids.slice(from, from + pageSize(options.limit)).map((id) => s.users.get(id)!);
    },
    usage: (id) => get().usage.get(id),
    get size() {
      return get().users.size;
    },
  };
}

/** The router's and link pool's view of exits. */
export function createExitRegistry(get: () => State): ExitRegistry {
  const list = (): ExitRecord[] => {
    const s = get();
    return [...s.exits.keys()].sort(byCodeUnit).map((id) => s.exits.get(id)!);
  };
  return {
    get: (id) => get().exits.get(id),
    byPublicKey(publicKey) {
      const s = get();
      const id = s.exitKeys.get(keyText(publicKey));
      return id === undefined ? undefined : s.exits.get(id);
    },
    list,
    descriptors: (): ExitDescriptor[] => list().map((e) => ({ id: e.id, region: e.region, weight: e.weight, state: e.state })),
    get size() {
      return get().exits.size;
    },
  };
}

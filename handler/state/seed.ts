/**
 * The initial state from the handler config's users and exits lists. Until the state is managed
 * through the admin API these lists are the source of truth; afterwards they only seed a fresh
 * cluster (a Raft leader proposes them when its applied state is empty, and a create that finds
 * the id taken is refused harmlessly).
 */
import type { ExitEntry, HandlerConfig, UserConfig } from '../../shared/config/handler.ts';
import type { Command } from './commands.ts';

/** A seed command and the config field it comes from (e.g. "users[2]"). */
export type SeedCommand = { readonly path: string; readonly command: Command };

/** The user.create command for one configured user. Keys must be resolved (loadConfig). */
export function userSeedCommand(u: UserConfig): Command {
  return {
    v: 1,
    op: 'user.create',
    id: u.id,
    publicKey: u.publicKey.toBase64Url(),
    status: u.status,
    ...(u.quota === undefined ? {} : { quota: u.quota }),
    ...(u.rateLimit === undefined ? {} : { rateLimit: u.rateLimit }),
    ...(u.allowedRegions === undefined ? {} : { allowedRegions: [...new Set(u.allowedRegions)] }),
    ...(u.maxSessions === undefined ? {} : { maxSessions: u.maxSessions }),
  };
}

/** The exit.create command for one configured exit. Keys must be resolved (loadConfig). */
export function exitSeedCommand(e: ExitEntry): Command {
  return {
    v: 1,
    op: 'exit.create',
    id: e.id,
    ...(e.url === undefined ? {} : { url: e.url }),
    region: e.region,
    weight: e.weight,
    publicKey: e.publicKey.toBase64Url(),
    mode: e.mode,
    state: e.state,
  };
}

/** Commands that build the configured users, then exits, in config order. */
export function seedCommandsFromConfig(config: Pick<HandlerConfig, 'users' | 'exits'>): SeedCommand[] {
  return [
    ...config.users.map((u, i) => ({ path: `users[${i}]`, command: userSeedCommand(u) })),
    ...config.exits.map((e, i) => ({ path: `exits[${i}]`, command: exitSeedCommand(e) })),
  ];
}

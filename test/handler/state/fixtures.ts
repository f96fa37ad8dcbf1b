/** Shared helpers for the state machine tests: fixed keys and command builders. */
import { encodeBase64Url } from '../../../shared/config/base64url.ts';
import { encodeCommand, type Command, type CommandOf } from '../../../handler/state/commands.ts';
import { createStateMachine, type StateMachine } from '../../../handler/state/machine.ts';
import type { ApplyResult, StateEvent } from '../../../handler/state/types.ts';

/** A fixed, valid 32-byte key as base64url: every byte is `n` (1-255). */
export const key = (n: number): string => encodeBase64Url(new Uint8Array(32).fill(n));

/** Raw bytes of key(n). */
export const keyBytes = (n: number): Uint8Array => new Uint8Array(32).fill(n);

/** Encodes a command object as UTF-8 JSON without validation (to feed invalid commands). */
export const raw = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

/** A machine that records its events, with an apply helper that numbers entries itself. */
export function harness(): {
  m: StateMachine;
  events: StateEvent[];
  run: (command: Command) => ApplyResult;
  runRaw: (bytes: Uint8Array) => ApplyResult;
} {
  const m = createStateMachine();
  const events: StateEvent[] = [];
  m.subscribe((e) => events.push(e));
  return {
    m,
    events,
    run: (command) => m.apply(m.appliedIndex + 1, encodeCommand(command)),
    runRaw: (bytes) => m.apply(m.appliedIndex + 1, bytes),
  };
}

/** A user.create command with defaults. */
export const createUser = (id: string, n: number, extra: Partial<Omit<CommandOf<'user.create'>, 'v' | 'op'>> = {}): Command => ({
  v: 1,
  op: 'user.create',
  id,
  publicKey: key(n),
  ...extra,
});

/** An exit.create command in dial mode. */
export const createExit = (id: string, n: number, region = 'us', weight = 1): Command => ({
  v: 1,
  op: 'exit.create',
  id,
  url: `wss://${id}.example.net/link-secret`,
  region,
  weight,
  publicKey: key(n),
});

/** A usage.add command for one user. */
export const usage = (handlerId: string, sequence: number, userId: string, up: number, down: number): Command => ({
  v: 1,
  op: 'usage.add',
  handlerId,
  sequence,
  deltas: [{ userId, up, down }],
});

/** A sequence that touches every command kind, for determinism and round-trip tests. */
export function mixedCommands(): Command[] {
  return [
    createUser('bob', 2, { quota: 1000, allowedRegions: ['us', 'eu'] }),
    createUser('alice', 1, { rateLimit: 500_000, maxSessions: 3 }),
    createExit('exit-us', 11, 'us', 1),
    createExit('exit-eu', 12, 'eu', 2),
    { v: 1, op: 'exit.create', id: 'exit-nat', region: 'asia', publicKey: key(13), mode: 'reverse', weight: 2 },
    usage('h1', 1, 'alice', 100, 200),
    usage('h2', 1, 'bob', 10, 20),
    usage('h1', 1, 'alice', 100, 200),
    { v: 1, op: 'user.update', id: 'bob', status: 'disabled' },
    { v: 1, op: 'exit.update', id: 'exit-us', state: 'draining', weight: 5 },
    { v: 1, op: 'key.revoke', publicKey: key(99), reason: 'leaked' },
    { v: 1, op: 'settings.update', strictRegion: true, defaultMaxSessions: 4 },
    createUser('carol', 3),
    { v: 1, op: 'user.delete', id: 'carol' },
    { v: 1, op: 'exit.delete', id: 'exit-eu' },
    { v: 1, op: 'usage.reset', userId: 'bob' },
  ];
}

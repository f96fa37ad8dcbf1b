/**
 * The Raft-backed StateStore of handler/state: the handler swaps it in for LocalStateStore.
 * propose() checks and encodes the command, proposes it through the node (forwarded to the
 * leader from a follower) and resolves with the ApplyResult of this node's state machine;
 * read() is a ReadIndex barrier. The view is the local state machine, which every node applies.
 */
import { checkCommand, encodeCommand, type Command } from '../../state/commands.ts';
import { createStateMachine, type StateMachine, type StateMachineOptions } from '../../state/machine.ts';
import type { SeedCommand } from '../../state/seed.ts';
import type { StateStore } from '../../state/store.ts';
import type { ApplyResult, StateView } from '../../state/types.ts';
import { errorFields } from '../transport/logger.ts';
import { Role } from '../types.ts';
import { startRaftNode, type RaftNode } from './node.ts';
import type { RaftNodeOptions } from './options.ts';

/** A StateStore over a raft node whose state machine is `machine`. */
export class RaftStateStore implements StateStore {
  readonly view: StateView;
  readonly node: RaftNode<ApplyResult>;

  constructor(node: RaftNode<ApplyResult>, machine: StateView) {
    this.node = node;
    this.view = machine;
  }

  propose(command: Command, signal?: AbortSignal): Promise<ApplyResult> {
    const check = checkCommand(command);
    if (!check.ok) return Promise.resolve({ ok: false, index: 0, error: check.error });
    return this.node.propose(encodeCommand(check.command), signal);
  }

  read(signal?: AbortSignal): Promise<void> {
    return this.node.read(signal);
  }
}

/** Options of startRaftStateStore(): a node's options minus the state machine, plus seeding. */
export type RaftStateStoreOptions = Omit<RaftNodeOptions<ApplyResult>, 'stateMachine'> & {
  machineOptions?: StateMachineOptions;
  /**
   * Commands that build the configured users and exits (seedCommandsFromConfig). A leader
   * proposes them when it finds the replicated state without users and exits; creates that
   * find the id taken are refused harmlessly, so two leaders in a row seeding is safe.
   */
  seedCommands?: readonly SeedCommand[];
};

/** Starts a raft node over a fresh handler state machine and wraps it as a StateStore. */
export async function startRaftStateStore(o: RaftStateStoreOptions): Promise<{ store: RaftStateStore; node: RaftNode<ApplyResult>; machine: StateMachine }> {
  const { machineOptions, seedCommands: seed, ...nodeOptions } = o;
  const machine = createStateMachine(machineOptions ?? {});
  const node = await startRaftNode<ApplyResult>({ ...nodeOptions, stateMachine: machine });
  const store = new RaftStateStore(node, machine);
  if (seed !== undefined && seed.length > 0) {
    let seeding = false;
    node.onLeadershipChange((role) => {
      if (role !== Role.Leader || seeding) return;
      seeding = true;
      void seedWhenEmpty(store, seed, o.logger).finally(() => {
        seeding = false;
      });
    });
  }
  return { store, node, machine };
}

async function seedWhenEmpty(store: RaftStateStore, seed: readonly SeedCommand[], logger: RaftStateStoreOptions['logger']): Promise<void> {
  try {
    // The barrier makes sure "empty" is the committed state, not a lagging local view.
    await store.read();
    if (store.view.users.size > 0 || store.view.exits.size > 0) return;
    for (const { path, command } of seed) {
      const r = await store.propose(command);
      if (!r.ok) logger?.warn({ path, code: r.error.code, reason: r.error.message }, 'Seed command refused');
    }
    logger?.info({ commands: seed.length }, 'Replicated state seeded from the config');
  } catch (err) {
    logger?.warn(errorFields(err), 'Seeding the replicated state failed; the next leader will retry');
  }
}

/**
 * How the rest of the handler changes and reads the replicated state: propose a command and
 * learn its result once applied; read() as a barrier before reads that must be fresh (ReadIndex,
 * Raft thesis 6.4). LocalStateStore is the single-process form used until the Raft driver is
 * wired: it applies each command at once, in order, at the next index.
 */
import type { HandlerConfig } from '../../shared/config/handler.ts';
import { ErrorCode, codedError } from '../../shared/errors.ts';
import { checkCommand, encodeCommand, type Command } from './commands.ts';
import { createStateMachine, type StateMachine, type StateMachineOptions } from './machine.ts';
import { seedCommandsFromConfig, type SeedCommand } from './seed.ts';
import type { ApplyResult, StateView } from './types.ts';

/**
 * The write and fresh-read side of the state. The Raft-backed store has the same shape: its
 * propose forwards to the leader and resolves when this node applies the entry.
 */
export interface StateStore {
  readonly view: StateView;
  /**
   * Proposes a command. Resolves with the apply result (ok false for a refused command, index 0
   * when the command was invalid and never entered the log). Rejects only when the command's
   * fate is unknown or it could not be proposed: NOT_LEADER, PROPOSAL_DROPPED, TIMEOUT, ABORTED.
   */
  propose(command: Command, signal?: AbortSignal): Promise<ApplyResult>;
  /** Resolves once this node has applied everything committed when read() was called. */
  read(signal?: AbortSignal): Promise<void>;
}

function aborted(signal: AbortSignal | undefined): Error | undefined {
  if (signal?.aborted !== true) return undefined;
  return codedError(Error, ErrorCode.ABORTED, 'The operation was aborted before it was proposed', signal.reason);
}

/** A StateStore that applies commands in-process, immediately. */
export class LocalStateStore implements StateStore {
  readonly machine: StateMachine;
  readonly view: StateView;

  constructor(machine: StateMachine = createStateMachine()) {
    this.machine = machine;
    this.view = machine;
  }

  /**
   * A store seeded from the handler config (keys must be resolved). Throws a BAD_CONFIG coded
   * error naming the config entry when a seed is refused, e.g. two users with one key.
   */
  static fromConfig(config: Pick<HandlerConfig, 'users' | 'exits'>, options: StateMachineOptions = {}): LocalStateStore {
    const store = new LocalStateStore(createStateMachine(options));
    store.seed(seedCommandsFromConfig(config));
    return store;
  }

  /** Applies seed commands; throws BAD_CONFIG naming the first one refused. */
  seed(commands: readonly SeedCommand[]): void {
    for (const { path, command } of commands) {
      const r = this.applyNow(command);
      if (!r.ok) {
        const field = r.error.field === undefined ? path : `${path}.${r.error.field}`;
        throw codedError(RangeError, ErrorCode.BAD_CONFIG, `Config ${field}: ${r.error.message}`);
      }
    }
  }

  propose(command: Command, signal?: AbortSignal): Promise<ApplyResult> {
    const err = aborted(signal);
    if (err !== undefined) return Promise.reject(err);
    return Promise.resolve(this.applyNow(command));
  }

  read(signal?: AbortSignal): Promise<void> {
    const err = aborted(signal);
    return err === undefined ? Promise.resolve() : Promise.reject(err);
  }

  private applyNow(command: Command): ApplyResult {
    const check = checkCommand(command);
    if (!check.ok) return { ok: false, index: 0, error: check.error };
    return this.machine.apply(this.machine.appliedIndex + 1, encodeCommand(check.command));
  }
}

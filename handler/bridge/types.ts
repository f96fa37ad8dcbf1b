/**
 * What a stream bridge needs from the rest of the handler: a router that picks exits and opens
 * link streams, and a meter that counts a user's bytes and shapes them. Both are per session,
 * so the bridge itself knows nothing about users, regions or links.
 */
import type { MuxStream } from '../../shared/mux/stream.ts';
import type { PickResult } from '../routing/types.ts';
import type { OpenRequest } from '../../shared/mux/options.ts';

/** Answer of opening a link stream (LinkPool.open). */
export type LinkOpen = { ok: true; stream: MuxStream } | { ok: false; reason: 'no_link' | 'unsupported' };

/** Exit choice and link streams for one client session. */
export interface StreamRouter {
  /** First choice for a new stream (user's regions, the hello's region). */
  pick(): PickResult;
  /** Another exit after `failedExitId` failed before any byte moved; `tried` excludes more. */
  retry(failedExitId: string, tried: readonly string[]): PickResult;
  /** Opens the stream on a link to `exitId` (OPEN with the session's tag). */
  open(exitId: string, request: OpenRequest): LinkOpen;
  /** Passive health: the exit answered (OPEN_OK, or a destination's verdict). */
  openSucceeded(exitId: string): void;
  /** Passive health: an OPEN failed for a reason of the exit's own. */
  openFailed(exitId: string): void;
  /** Passive health: the exit never answered the OPEN. */
  streamStalled(exitId: string): void;
}

/** Byte direction: up is toward the internet, down toward the app. */
export type Direction = 'up' | 'down';

/** Per-user accounting and shaping. */
export interface StreamMeter {
  /** Counts `n` payload bytes; false once the user's quota is spent (the stream is then reset with POLICY). */
  count(direction: Direction, n: number, exitId: string): boolean;
  /** Milliseconds to hold `n` bytes before forwarding them (bandwidth token bucket); 0 = at once. */
  delay(n: number): number;
  /** Datagrams are never delayed: true when `n` bytes may go now, false to drop the datagram. */
  admitDatagram(n: number): boolean;
}

/** Events a bridge reports for metrics and logs. */
export interface BridgeObserver {
  selected?(exitId: string): void;
  noExit?(detail: string): void;
  opened?(exitId: string, seconds: number): void;
  /** The client stream ended (every path), for the active-streams gauge. */
  finished?(): void;
}

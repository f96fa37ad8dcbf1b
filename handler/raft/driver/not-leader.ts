/** The NOT_LEADER error of a node that cannot serve a request itself. */
import { codedError, ErrorCode } from '../../../shared/errors.ts';
import type { NodeId } from '../types.ts';

/** NOT_LEADER naming the leader we know of (id and URL), so a caller can go there. */
export function notLeaderError(
  self: NodeId,
  leader: NodeId,
  url: string | undefined,
): Error & { code: string; leaderId: string | null; leaderUrl: string | null } {
  const err = codedError(
    Error,
    ErrorCode.NOT_LEADER,
    leader === '' ? `Node ${self} is not the leader and knows none yet` : `Node ${self} is not the leader; the leader is ${leader}`,
  ) as Error & { code: string; leaderId: string | null; leaderUrl: string | null };
  err.leaderId = leader === '' ? null : leader;
  err.leaderUrl = url ?? null;
  return err;
}


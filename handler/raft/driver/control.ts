/**
 * Cluster control (handler/api ClusterControl): membership changes one server at a time
 * (Raft thesis 4.1) and leadership transfer (thesis 3.10). Only the leader can propose them,
 * so a follower forwards the request to the leader over the raft link and relays the answer
 * (ARCHITECTURE 4: admin writes on a follower are forwarded to the leader). A node that
 * receives a forwarded request but is no longer leader answers NOT_LEADER instead of
 * forwarding again, so requests never loop between stale views.
 *
 * Adding a member first replicates its URL (a driver entry), so every node can reach it by
 * the time it is in the configuration; each change starts with a ReadIndex barrier, which
 * waits until the leader has committed an entry of its term and applied everything before
 * (the core refuses a change otherwise).
 */
import type { ClusterControl, NewMember } from '../../api/types.ts';
import { codedError, ErrorCode, type ErrorCodeValue } from '../../../shared/errors.ts';
import type { RaftStatus } from '../core/index.ts';
import {
  ControlOp,
  decodeControlRequest,
  decodeControlResponse,
  encodeControlRequest,
  encodeControlResponse,
  type ControlRequest,
} from '../transport/control-codec.ts';
import { PayloadKind } from '../transport/frames.ts';
import { errorFields, type RaftLogger } from '../transport/logger.ts';
import type { ConfChange, NodeId } from '../types.ts';
import { ConfChangeType, Role } from '../types.ts';
import { checkNodeId, checkPeerUrl } from './options.ts';
import { abortedError, WaitList } from './wait-list.ts';

/** What the controller needs from its node. */
export interface ControlHost {
  readonly id: NodeId;
  readonly defaultTimeoutMs: number;
  readonly logger: RaftLogger;
  role(): Role;
  leader(): NodeId;
  memberUrl(id: NodeId): string | undefined;
  status(): RaftStatus;
  sendControl(to: NodeId, kind: PayloadKind, body: Uint8Array): void;
  notLeader(): Error;
  /** ReadIndex barrier: resolves once everything committed before the call is applied here. */
  barrier(signal: AbortSignal): Promise<void>;
  /** Replicates a member's URL; resolves once applied here. */
  proposeMember(id: NodeId, url: string, signal: AbortSignal): Promise<void>;
  /** Proposes one change (leader only); resolves once applied here. */
  proposeConfChange(cc: ConfChange, signal: AbortSignal): Promise<void>;
  /** Starts a transfer (leader only); resolves once `to` leads. */
  transfer(to: NodeId, signal: AbortSignal): Promise<void>;
}

/** Longest a forwarded request may keep the leader busy. */
const MAX_FORWARDED_MS = 60_000;

function rejected(message: string): Error {
  return codedError(Error, ErrorCode.CONF_CHANGE_REJECTED, message);
}

function deadlineSignal(signal: AbortSignal | undefined, ms: number): AbortSignal {
  const timeout = AbortSignal.timeout(ms);
  return signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
}

/** Runs control operations here when leader, or forwards them to the leader. */
export class ClusterController implements ClusterControl {
  readonly #host: ControlHost;
  readonly #forwarded = new WaitList<number, void>('Forwarded cluster operation');
  #seq = 0;

  constructor(host: ControlHost) {
    this.#host = host;
  }

  addMember(member: NewMember, signal?: AbortSignal): Promise<void> {
    return this.#run({ op: ControlOp.AddMember, node: member.id, url: member.url }, signal);
  }

  addLearner(member: NewMember, signal?: AbortSignal): Promise<void> {
    return this.#run({ op: ControlOp.AddLearner, node: member.id, url: member.url }, signal);
  }

  promoteLearner(id: string, signal?: AbortSignal): Promise<void> {
    return this.#run({ op: ControlOp.PromoteLearner, node: id, url: '' }, signal);
  }

  removeMember(id: string, signal?: AbortSignal): Promise<void> {
    return this.#run({ op: ControlOp.RemoveMember, node: id, url: '' }, signal);
  }

  transferLeadership(to: string | undefined, signal?: AbortSignal): Promise<void> {
    return this.#run({ op: ControlOp.TransferLeadership, node: to ?? '', url: '' }, signal);
  }

  /** A control payload from a peer. */
  onPayload(kind: PayloadKind, body: Uint8Array, from: NodeId): void {
    try {
      if (kind === PayloadKind.ControlRequest) this.#serve(decodeControlRequest(body), from);
      else if (kind === PayloadKind.ControlResponse) {
        const r = decodeControlResponse(body);
        if (r.ok) this.#forwarded.resolve(r.id, undefined);
        else this.#forwarded.reject(r.id, codedError(Error, r.errorCode as ErrorCodeValue, r.message));
      }
    } catch (err) {
      this.#host.logger.warn({ peer: from, ...errorFields(err) }, 'Bad cluster control payload');
    }
  }

  onTick(now: number): void {
    this.#forwarded.expire(now);
  }

  rejectAll(err: Error): void {
    this.#forwarded.rejectAll(err);
  }

  async #run(req: Omit<ControlRequest, 'id' | 'timeoutMs'>, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted === true) throw abortedError(signal, 'Cluster operation');
    if (req.op !== ControlOp.TransferLeadership || req.node !== '') checkNodeId(req.node, 'member id');
    if (req.op === ControlOp.AddMember || req.op === ControlOp.AddLearner) checkPeerUrl(req.url, `member ${req.node}`);
    const h = this.#host;
    if (h.role() === Role.Leader) return this.#execute(req, deadlineSignal(signal, h.defaultTimeoutMs));
    const leader = h.leader();
    if (leader === '') throw h.notLeader();
    const id = ++this.#seq;
    const p = this.#forwarded.add(id, Date.now() + h.defaultTimeoutMs, signal);
    h.sendControl(leader, PayloadKind.ControlRequest, encodeControlRequest({ ...req, id, timeoutMs: h.defaultTimeoutMs }));
    return p;
  }

  #serve(req: ControlRequest, from: NodeId): void {
    const h = this.#host;
    const answer = (err: unknown): void => {
      const coded = err === undefined ? null : hasCodeLike(err) ? err : codedError(Error, ErrorCode.INTERNAL, String(err));
      h.sendControl(
        from,
        PayloadKind.ControlResponse,
        encodeControlResponse({ id: req.id, ok: coded === null, errorCode: coded?.code ?? '', message: coded?.message ?? '' }),
      );
    };
    if (h.role() !== Role.Leader) {
      answer(h.notLeader());
      return;
    }
    const signal = AbortSignal.timeout(Math.max(1, Math.min(req.timeoutMs, MAX_FORWARDED_MS)));
    this.#execute(req, signal).then(
      () => answer(undefined),
      (err: unknown) => answer(err),
    );
  }

  async #execute(req: Omit<ControlRequest, 'id' | 'timeoutMs'>, signal: AbortSignal): Promise<void> {
    const h = this.#host;
    const id = req.node;
    const conf = h.status().conf;
    const isVoter = conf.voters.includes(id);
    const isLearner = conf.learners.includes(id);
    switch (req.op) {
      case ControlOp.AddMember:
      case ControlOp.AddLearner: {
        const learner = req.op === ControlOp.AddLearner;
        if (learner && isVoter) throw rejected(`${id} is already a voter`);
        if (h.memberUrl(id) !== req.url) await h.proposeMember(id, req.url, signal);
        if ((learner && isLearner) || (!learner && isVoter)) return;
        await h.barrier(signal);
        await h.proposeConfChange({ type: learner ? ConfChangeType.AddLearner : ConfChangeType.AddNode, node: id }, signal);
        h.logger.info({ member: id, url: req.url, learner }, 'Raft member added');
        return;
      }
      case ControlOp.PromoteLearner:
        if (isVoter) return;
        if (!isLearner) throw codedError(Error, ErrorCode.NOT_FOUND, `${id} is not a learner of this cluster`);
        await h.barrier(signal);
        await h.proposeConfChange({ type: ConfChangeType.AddNode, node: id }, signal);
        h.logger.info({ member: id }, 'Raft learner promoted');
        return;
      case ControlOp.RemoveMember:
        if (!isVoter && !isLearner) throw codedError(Error, ErrorCode.NOT_FOUND, `${id} is not a member of this cluster`);
        await h.barrier(signal);
        await h.proposeConfChange({ type: ConfChangeType.RemoveNode, node: id }, signal);
        h.logger.info({ member: id }, 'Raft member removed');
        return;
      case ControlOp.TransferLeadership: {
        const to = id === '' ? bestTransferee(h.status()) : id;
        if (to === undefined) throw codedError(Error, ErrorCode.TRANSFER_REJECTED, 'No other voter can take the leadership');
        await h.transfer(to, signal);
        h.logger.info({ to }, 'Raft leadership transferred');
        return;
      }
    }
  }
}

function hasCodeLike(err: unknown): err is Error & { code: string } {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string';
}

/** The voter other than the leader with the highest match index, preferring recently active ones. */
export function bestTransferee(st: RaftStatus): NodeId | undefined {
  let best: NodeId | undefined;
  let bestKey = -1;
  for (const v of st.conf.voters) {
    if (v === st.id) continue;
    const pr = st.progress?.get(v);
    if (pr === undefined) continue;
    const key = pr.match * 2 + (pr.recentActive ? 1 : 0);
    if (key > bestKey) {
      best = v;
      bestKey = key;
    }
  }
  return best;
}

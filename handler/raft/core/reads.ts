/**
 * The leader's ReadIndex flow (Raft thesis 6.4): a read waits until the leader has committed an
 * entry of its own term (before that its commit index may trail what earlier leaders
 * committed), then records the commit index and waits for a heartbeat round acknowledged by a
 * majority, which proves nobody else led at that moment.
 */
import type { NodeId } from '../types.ts';
import { codedError, ErrorCode } from '../../../shared/errors.ts';
import { quorumSize } from './conf.ts';
import { ReadOnly, type ReadRequest } from './read-only.ts';

/** What the read tracker needs from the core. */
export interface ReadsHost {
  readonly id: NodeId;
  readonly maxPending: number;
  committed(): number;
  committedInCurrentTerm(): boolean;
  voters(): readonly NodeId[];
  /** Delivers a confirmed read point to whoever asked. */
  answer(req: ReadRequest): void;
}

/** Pending reads of one leadership. */
export class Reads {
  private readonly fifo = new ReadOnly();
  private waiting: { from: NodeId; context: Uint8Array }[] = [];
  /** A read was registered since the last heartbeat round: send one now. */
  heartbeatDue = false;
  private readonly host: ReadsHost;

  constructor(host: ReadsHost) {
    this.host = host;
  }

  /** Registers a read from `from` (this node or a follower). */
  request(from: NodeId, context: Uint8Array): void {
    const h = this.host;
    if (!h.committedInCurrentTerm()) {
      if (this.waiting.length >= h.maxPending) {
        if (from === h.id) throw codedError(Error, ErrorCode.PROPOSAL_DROPPED, 'Too many reads are waiting for the first commit');
        return;
      }
      this.waiting.push({ from, context });
      return;
    }
    const req: ReadRequest = { index: h.committed(), context, from, acks: new Set() };
    const voters = h.voters();
    if (voters.length === 1 && voters[0] === h.id) {
      h.answer(req);
      return;
    }
    if (this.fifo.add(req.index, context, from)) this.heartbeatDue = true;
  }

  /** The commit index moved: reads waiting for a current-term commit may proceed. */
  onCommit(): void {
    if (this.waiting.length === 0 || !this.host.committedInCurrentTerm()) return;
    const reads = this.waiting;
    this.waiting = [];
    for (const r of reads) this.request(r.from, r.context);
  }

  /** A heartbeat ack carrying `context` from `from`; completes reads once a majority acked. */
  onHeartbeatAck(from: NodeId, context: Uint8Array): void {
    if (context.length === 0 || this.fifo.size === 0) return;
    const acks = this.fifo.recvAck(from, context);
    if (acks === undefined) return;
    const voters = this.host.voters();
    let n = 0;
    for (const v of voters) if (v === this.host.id || acks.has(v)) n++;
    if (n < quorumSize(voters)) return;
    for (const req of this.fifo.advance(context)) this.host.answer(req);
  }

  /** Context for the next heartbeat, so one round confirms every pending read. */
  lastContext(): Uint8Array | null {
    return this.fifo.lastContext();
  }

  reset(): void {
    this.fifo.reset();
    this.waiting = [];
    this.heartbeatDue = false;
  }
}

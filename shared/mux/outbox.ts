/**
 * The send side of a session: control frames, datagrams and stream DATA packed into as few
 * transport messages as possible (one FrameBatch per message, one `send` per message), flushed
 * once the microtask queue goes quiet, so everything queued in one burst of work shares
 * messages (a relay that moves a chunk per read() takes a few microtasks per chunk). DATA moves only within
 * both the stream's and the session's credit (RFC 9113 5.2), round-robin across streams so
 * one bulk stream cannot starve the others, and only while the transport accepts more.
 */
import { codedError, ErrorCode } from '../errors.ts';
import { FRAME_HEADER_LENGTH, FrameType } from '../protocol/constants.ts';
import { FrameBatch } from '../protocol/batch.ts';
import { frameLength } from '../protocol/encode.ts';
import type { Frame } from '../protocol/frame.ts';
import { PaddingPolicy, type PaddingPolicyValue } from '../protocol/hello.ts';
import { SendWindow } from './flow-window.ts';
import { LocalFin, StreamPhase, type MuxStream } from './stream.ts';
import type { MessageTransport } from './transport.ts';

/** Sizes and policies of an Outbox. */
export interface OutboxOptions {
  messageSize: number;
  /** The peer's max frame body (its hello). */
  peerMaxFrameLength: number;
  /** Initial session credit (the peer's sessionWindow). */
  sessionWindow: number;
  paddingPolicy: PaddingPolicyValue;
  randomInt: (n: number) => number;
  maxControlQueue: number;
  sessionHighWater: number;
}

// A DATA frame smaller than this is not worth starting in the tail of a message: the rest of
// the chunk goes into the next message instead of being split into a sliver and a remainder.
const MIN_DATA_SLICE = 1024;
// Datagrams are dropped rather than queued beyond this (they are unreliable by contract).
const MAX_DATAGRAM_QUEUE_BYTES = 256 * 1024;
// Safety bound on messages per flush; credit and the transport's high-water mark bound it first.
const MAX_MESSAGES_PER_FLUSH = 1024;
const BUCKETS = [256, 1024, 4096, 16384];
// Coalescing: the flush waits (one microtask per hop) until nothing new was queued for
// QUIET_HOPS hops in a row, at most MAX_HOPS hops, unless a full message is already queued.
// A relay pump (read() then write()) needs 2-3 microtasks per chunk; a hop costs ~0.1 us.
const QUIET_HOPS = 4;
const RESOLVED: Promise<void> = Promise.resolve();
const MAX_HOPS = 64;

/** Batches and sends everything a session has to say. */
export class Outbox {
  /** Session-level send credit (stream 0). */
  readonly sessionCredit: SendWindow;
  /** Bytes queued in all streams' send queues. */
  queuedBytes = 0;
  /** Transport messages sent. */
  messagesSent = 0;
  /** DATA payload bytes sent. */
  dataBytesSent = 0;

  private readonly transport: MessageTransport;
  private readonly o: OutboxOptions;
  private readonly batch: FrameBatch;
  private readonly fillLimit: number;
  /** The BUCKETS padding sizes, then the message size itself. */
  private readonly buckets: readonly number[];
  private control: Frame[] = [];
  private controlHead = 0;
  private datagrams: Frame[] = [];
  private datagramBytes = 0;
  private readonly ready = new Set<MuxStream>();
  private readonly sessionBlocked = new Set<MuxStream>();
  private readonly writeBlocked = new Set<MuxStream>();
  private transportBlocked = false;
  private scheduled = false;
  private dead = false;
  /** Bumped by everything that queues; the flush waits while it keeps moving. */
  private pokes = 0;
  private seenPokes = 0;
  private hops = 0;
  private quietHops = 0;
  private readonly onOverflow: (err: Error) => void;
  private readonly flushBound = (): void => this.flush();

  constructor(transport: MessageTransport, options: OutboxOptions, onOverflow: (err: Error) => void) {
    this.transport = transport;
    this.o = options;
    this.onOverflow = onOverflow;
    this.sessionCredit = new SendWindow(options.sessionWindow);
    this.batch = new FrameBatch({ capacity: options.messageSize, maxFrameLength: options.peerMaxFrameLength });
    // Room kept free in each message for the padding the peer asked for (docs/protocol.md 4.2).
    const reserve =
      options.paddingPolicy === PaddingPolicy.RANDOM ? 255 : options.paddingPolicy === PaddingPolicy.BUCKETS ? FRAME_HEADER_LENGTH : 0;
    this.fillLimit = options.messageSize - reserve;
    this.buckets = [...BUCKETS, options.messageSize];
  }

  /** Queues a control frame; they go out ahead of DATA, in order. */
  queueControl(frame: Frame): void {
    if (this.dead) return;
    if (this.control.length - this.controlHead >= this.o.maxControlQueue) {
      // Only a peer that makes us answer (PING, bad frames) while it does not read gets here.
      this.onOverflow(
        codedError(RangeError, ErrorCode.BUFFER_LIMIT, `More than ${this.o.maxControlQueue} control frames queued while the peer is not reading`),
      );
      return;
    }
    this.control.push(frame);
    this.schedule();
  }

  /** Queues a DATAGRAM; false (dropped) when too large for the peer or the queue is full. */
  queueDatagram(frame: Frame): boolean {
    if (this.dead || this.transportBlocked) return false;
    const size = frameLength(frame);
    if (size - FRAME_HEADER_LENGTH > this.o.peerMaxFrameLength || size > this.fillLimit) return false;
    if (this.datagramBytes + size > MAX_DATAGRAM_QUEUE_BYTES) return false;
    this.datagrams.push(frame);
    this.datagramBytes += size;
    this.schedule();
    return true;
  }

  /** The stream may have DATA or a FIN to send. */
  wantsToSend(stream: MuxStream): void {
    this.ready.add(stream);
    this.schedule();
  }

  /** Adjusts the count of queued bytes; a drop (a stream reset) may unblock other streams' writers. */
  adjustQueued(n: number): void {
    this.queuedBytes += n;
    if (n < 0 && this.writeBlocked.size > 0) this.schedule();
  }

  /** The stream has writers waiting for its queue to drain. */
  writeBlockedOn(stream: MuxStream): void {
    this.writeBlocked.add(stream);
  }

  /** Adds session credit from WINDOW(0); false when it overflows (a FLOW_CONTROL_ERROR). */
  grantSession(increment: number): boolean {
    if (!this.sessionCredit.grant(increment)) return false;
    for (const s of this.sessionBlocked) this.ready.add(s);
    this.sessionBlocked.clear();
    this.schedule();
    return true;
  }

  /** The transport drained after `send` returned false. */
  drained(): void {
    this.transportBlocked = false;
    this.schedule();
  }

  /** True while the transport refuses more (send returned false and no drain yet). */
  get blocked(): boolean {
    return this.transportBlocked;
  }

  /** Sends queued control frames and then `last`, ignoring backpressure; the outbox is dead afterwards. */
  flushFinal(last: Frame[]): void {
    if (this.dead) return;
    for (const f of last) this.control.push(f);
    this.ready.clear();
    this.datagrams = [];
    for (let i = 0; i < MAX_MESSAGES_PER_FLUSH && this.controlHead < this.control.length; i++) {
      this.fillControl();
      if (this.batch.frameCount === 0) break;
      this.emit();
    }
    this.kill();
  }

  /** Drops everything; nothing is sent any more. */
  kill(): void {
    this.dead = true;
    this.control = [];
    this.controlHead = 0;
    this.datagrams = [];
    this.datagramBytes = 0;
    this.ready.clear();
    this.sessionBlocked.clear();
    this.writeBlocked.clear();
    this.batch.reset();
  }

  private schedule(): void {
    this.pokes++;
    if (this.scheduled || this.dead) return;
    this.scheduled = true;
    this.hops = 0;
    this.quietHops = 0;
    this.seenPokes = this.pokes;
    // A promise reaction, not queueMicrotask: Node wraps the latter in an async resource per call.
    void RESOLVED.then(this.flushBound);
  }

  /** True while producers are still queueing in this burst and no full message is waiting. */
  private shouldWait(): boolean {
    if (this.queuedBytes >= this.fillLimit || ++this.hops >= MAX_HOPS) return false;
    if (this.pokes !== this.seenPokes) {
      this.seenPokes = this.pokes;
      this.quietHops = 0;
      return true;
    }
    return ++this.quietHops < QUIET_HOPS;
  }

  private flush(): void {
    if (this.dead) {
      this.scheduled = false;
      return;
    }
    if (this.shouldWait()) {
      void RESOLVED.then(this.flushBound);
      return;
    }
    this.scheduled = false;
    let sent = 0;
    while (!this.transportBlocked && sent < MAX_MESSAGES_PER_FLUSH) {
      this.fillControl();
      this.fillDatagrams();
      this.fillData();
      if (this.batch.frameCount === 0) break;
      sent++;
      if (!this.emit()) this.transportBlocked = true;
      if (this.dead) return;
    }
    if (sent === MAX_MESSAGES_PER_FLUSH) this.schedule();
    for (const s of this.writeBlocked) {
      if (s.releaseWriters()) this.writeBlocked.delete(s);
    }
  }

  private fits(size: number): boolean {
    return this.batch.length + size <= this.fillLimit || this.batch.frameCount === 0;
  }

  private fillControl(): void {
    while (this.controlHead < this.control.length) {
      const f = this.control[this.controlHead]!;
      if (!this.fits(frameLength(f)) || !this.batch.append(f)) return;
      this.controlHead++;
    }
    this.control = [];
    this.controlHead = 0;
  }

  private fillDatagrams(): void {
    while (this.datagrams.length > 0) {
      const f = this.datagrams[0]!;
      const size = frameLength(f);
      if (!this.fits(size) || !this.batch.append(f)) return;
      this.datagrams.shift();
      this.datagramBytes -= size;
    }
  }

  private fillData(): void {
    if (this.controlHead < this.control.length || this.datagrams.length > 0) return;
    const batch = this.batch;
    for (let guard = 0; guard < 1_000_000 && this.ready.size > 0; guard++) {
      const stream = this.ready.values().next().value!;
      this.ready.delete(stream);
      if (stream.phase === StreamPhase.CLOSED || stream.phase === StreamPhase.PENDING) continue;
      const q = stream.sendQueue;
      if (q.byteLength > 0) {
        if (stream.sendWindow.credit <= 0) continue; // its WINDOW will bring it back
        if (this.sessionCredit.credit <= 0) {
          this.sessionBlocked.add(stream);
          continue;
        }
        const want = q.peek(Math.min(stream.sendWindow.credit, this.sessionCredit.credit, this.o.peerMaxFrameLength)).byteLength;
        const room = Math.min(this.fillLimit - batch.length - FRAME_HEADER_LENGTH, this.o.peerMaxFrameLength);
        if (room < Math.min(want, MIN_DATA_SLICE) && batch.frameCount > 0) {
          this.ready.add(stream);
          return;
        }
        const n = batch.appendData(stream.id, q.peek(Math.min(want, room)));
        q.take(n);
        stream.sendWindow.spend(n);
        this.sessionCredit.spend(n);
        this.queuedBytes -= n;
        this.dataBytesSent += n;
        if (q.byteLength > 0 || stream.localFin === LocalFin.QUEUED) this.ready.add(stream);
        continue;
      }
      if (stream.localFin === LocalFin.QUEUED) {
        const fin: Frame = { type: FrameType.FIN, streamId: stream.id };
        if (!this.fits(FRAME_HEADER_LENGTH) || !batch.append(fin)) {
          this.ready.add(stream);
          return;
        }
        stream.finSent();
      }
    }
  }

  private emit(): boolean {
    this.pad();
    const plain = this.batch.take();
    this.messagesSent++;
    // FrameBatch reuses its buffer: a transport that keeps the bytes gets its own copy.
    return this.transport.send(this.transport.sendCopies === true ? plain : plain.slice());
  }

  private pad(): void {
    const length = this.batch.length;
    if (this.o.paddingPolicy === PaddingPolicy.RANDOM) {
      const extra = this.o.randomInt(256);
      if (extra >= FRAME_HEADER_LENGTH) this.batch.padTo(length + extra);
    } else if (this.o.paddingPolicy === PaddingPolicy.BUCKETS) {
      for (const b of this.buckets) {
        const gap = b - length;
        if (gap === 0 || (gap >= FRAME_HEADER_LENGTH && b <= this.o.messageSize)) {
          this.batch.padTo(b);
          return;
        }
      }
    }
  }
}

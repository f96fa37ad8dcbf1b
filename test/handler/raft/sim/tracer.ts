/**
 * The run's trace: a running 32-bit FNV-1a hash over every event (cheap, always on, used to
 * prove that a seed replays identically) and, in verbose mode, readable lines.
 */
import type { EventQueue } from './event-queue.ts';

/** Trace recorder for one run. */
export class Tracer {
  readonly lines: string[] = [];
  private hash = 0x811c9dc5;
  private readonly verbose: boolean;
  private readonly queue: EventQueue;

  constructor(verbose: boolean, queue: EventQueue) {
    this.verbose = verbose;
    this.queue = queue;
  }

  private mix(v: number): void {
    let x = v | 0;
    for (let i = 0; i < 4; i++) {
      this.hash ^= x & 0xff;
      this.hash = Math.imul(this.hash, 0x01000193);
      x >>>= 8;
    }
  }

  /** A numeric event: kind and up to three values, stamped with virtual time. */
  event(kind: number, a: number, b: number, c: number): void {
    this.mix(kind);
    this.mix(Math.round(this.queue.now * 1000));
    this.mix(a);
    this.mix(b);
    this.mix(c);
  }

  /** A readable event; the text is only built in verbose mode. */
  text(line: () => string): void {
    this.mix(0x7e);
    this.mix(this.queue.steps);
    if (this.verbose) this.lines.push(`${this.queue.now.toFixed(3).padStart(10)} ${line()}`);
  }

  digest(): string {
    return (this.hash >>> 0).toString(16).padStart(8, '0');
  }
}

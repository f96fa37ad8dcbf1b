/**
 * The simulator's agenda: a binary min-heap of callbacks ordered by (virtual time, insertion
 * sequence), so equal-time events run in the order they were scheduled and a run is a pure
 * function of its seed.
 */

interface Item {
  time: number;
  seq: number;
  run: () => void;
}

/** Virtual-time event queue. */
export class EventQueue {
  private readonly heap: Item[] = [];
  private seq = 0;
  /** Current virtual time in milliseconds. */
  now = 0;
  /** Events run so far; also a strictly increasing logical clock for histories. */
  steps = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Runs `run` after `delay` virtual milliseconds (>= 0). */
  after(delay: number, run: () => void): void {
    this.push({ time: this.now + Math.max(0, delay), seq: this.seq++, run });
  }

  /** Runs the next event; false when the queue is empty or the next event is past `until`. */
  runNext(until: number): boolean {
    const top = this.heap[0];
    if (top === undefined || top.time > until) return false;
    const item = this.pop();
    this.now = item.time;
    this.steps++;
    item.run();
    return true;
  }

  private less(a: Item, b: Item): boolean {
    return a.time < b.time || (a.time === b.time && a.seq < b.seq);
  }

  private push(item: Item): void {
    const h = this.heap;
    h.push(item);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): Item {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

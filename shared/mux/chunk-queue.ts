/**
 * A FIFO of byte chunks that hands out views, never copies (the `consume(n)` byte queue of
 * websockets/ws `receiver.js`). A view returned by `take` never spans two chunks, so a frame
 * payload is always one contiguous slice of what the writer passed in.
 */
export class ChunkQueue {
  private chunks: Uint8Array[] = [];
  private head = 0;
  private headOffset = 0;
  private total = 0;

  /** Bytes queued. */
  get byteLength(): number {
    return this.total;
  }

  /** Number of chunks (or partial chunks) queued. */
  get length(): number {
    return this.chunks.length - this.head;
  }

  /** Appends a chunk; empty chunks are ignored. The caller must not mutate it afterwards. */
  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.chunks.push(chunk);
    this.total += chunk.byteLength;
  }

  /** Returns (without removing) up to `max` bytes from the front of the head chunk; empty when none. */
  peek(max: number): Uint8Array {
    const chunk = this.chunks[this.head];
    if (chunk === undefined || max <= 0) return EMPTY;
    const end = Math.min(chunk.byteLength, this.headOffset + max);
    return this.headOffset === 0 && end === chunk.byteLength ? chunk : chunk.subarray(this.headOffset, end);
  }

  /** Removes and returns up to `max` bytes from the front of the head chunk; empty when none. */
  take(max: number): Uint8Array {
    const chunk = this.chunks[this.head];
    if (chunk === undefined || max <= 0) return EMPTY;
    const available = chunk.byteLength - this.headOffset;
    const n = Math.min(available, max);
    const view = n === chunk.byteLength ? chunk : chunk.subarray(this.headOffset, this.headOffset + n);
    this.total -= n;
    if (n === available) {
      this.chunks[this.head] = EMPTY;
      this.head++;
      this.headOffset = 0;
      this.compact();
    } else {
      this.headOffset += n;
    }
    return view;
  }

  /** Removes and returns the whole head chunk (or what is left of it); undefined when empty. */
  shift(): Uint8Array | undefined {
    if (this.length === 0) return undefined;
    return this.take(Infinity);
  }

  /** Drops everything; returns the number of bytes dropped. */
  clear(): number {
    const dropped = this.total;
    this.chunks = [];
    this.head = 0;
    this.headOffset = 0;
    this.total = 0;
    return dropped;
  }

  private compact(): void {
    if (this.head === this.chunks.length) {
      // Usually one chunk: pop() is V8's fast path, where the length setter is a runtime call
      // (0.4-0.8 % of a relay's CPU in the 64 B echo).
      if (this.chunks.length === 1) this.chunks.pop();
      else this.chunks.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }
}

const EMPTY = new Uint8Array(0);

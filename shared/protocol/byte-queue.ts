/**
 * A FIFO of received chunks read with `consume(n)`, after websockets/ws lib/receiver.js: bytes
 * that lie inside one chunk come back as a subarray (no copy); only a read that spans chunks
 * copies. Chunks are kept by reference, so callers must not reuse a buffer they pushed.
 */
const EMPTY = new Uint8Array(0);

/** Byte FIFO over pushed chunks. */
export class ByteQueue {
  #chunks: Uint8Array[] = [];
  /** Index of the first chunk still holding unread bytes. */
  #head = 0;
  /** Bytes of chunks[head] already read. */
  #offset = 0;
  #size = 0;

  /** Unread bytes. */
  get size(): number {
    return this.#size;
  }

  /** Appends a chunk (kept by reference). */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#size += chunk.length;
  }

  /** Removes and returns the next `n` bytes; the caller checked `n <= size`. */
  consume(n: number): Uint8Array {
    if (n === 0) return EMPTY;
    this.#size -= n;
    const first = this.#chunks[this.#head]!;
    const left = first.length - this.#offset;
    if (n < left) {
      const out = first.subarray(this.#offset, this.#offset + n);
      this.#offset += n;
      return out;
    }
    if (n === left) {
      const out = this.#offset === 0 ? first : first.subarray(this.#offset);
      this.#advance();
      return out;
    }
    const out = new Uint8Array(n);
    let o = 0;
    while (o < n) {
      const chunk = this.#chunks[this.#head]!;
      const take = Math.min(chunk.length - this.#offset, n - o);
      out.set(chunk.subarray(this.#offset, this.#offset + take), o);
      o += take;
      if (this.#offset + take === chunk.length) this.#advance();
      else this.#offset += take;
    }
    return out;
  }

  /** Drops everything. */
  clear(): void {
    this.#chunks = [];
    this.#head = 0;
    this.#offset = 0;
    this.#size = 0;
  }

  #advance(): void {
    this.#offset = 0;
    this.#head++;
    if (this.#head === this.#chunks.length) {
      this.#chunks.length = 0;
      this.#head = 0;
    } else if (this.#head >= 64) {
      // Drop spent slots now and then so the array does not grow with a slow trickle.
      this.#chunks.splice(0, this.#head);
      this.#head = 0;
    }
  }
}

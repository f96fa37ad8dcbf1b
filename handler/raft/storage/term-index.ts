/**
 * The shape of the log without its data: the snapshot base (index, term), the last index, and
 * the term of every entry in between stored as runs (terms change rarely, so a log of millions
 * of entries needs a handful of runs). The storage driver uses it to validate appends and to
 * decide whether a snapshot matches the log (Raft paper fig. 13, InstallSnapshot step 6).
 */

interface Run {
  /** First index with this term. */
  start: number;
  term: number;
}

/** Log positions and terms, without entry data. */
export class TermIndex {
  #baseIndex: number;
  #baseTerm: number;
  #lastIndex: number;
  #runs: Run[] = [];

  /** An empty log whose entries start after (baseIndex, baseTerm). */
  constructor(baseIndex = 0, baseTerm = 0) {
    this.#baseIndex = baseIndex;
    this.#baseTerm = baseTerm;
    this.#lastIndex = baseIndex;
  }

  /** Index covered by the latest snapshot (0 when none). */
  get baseIndex(): number {
    return this.#baseIndex;
  }

  /** Term of the entry at baseIndex. */
  get baseTerm(): number {
    return this.#baseTerm;
  }

  /** Index of the last entry (equals baseIndex when the log after the snapshot is empty). */
  get lastIndex(): number {
    return this.#lastIndex;
  }

  /** Term of the last entry (or the base term). */
  get lastTerm(): number {
    return this.termAt(this.#lastIndex)!;
  }

  /** Term of entry `index`, or undefined when it is compacted away or beyond the log. */
  termAt(index: number): number | undefined {
    if (index === this.#baseIndex) return this.#baseTerm;
    if (index < this.#baseIndex || index > this.#lastIndex) return undefined;
    const runs = this.#runs;
    let lo = 0;
    let hi = runs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (runs[mid]!.start <= index) lo = mid;
      else hi = mid - 1;
    }
    return runs[lo]!.term;
  }

  /**
   * Records entry (index, term). An index at or below lastIndex overwrites the suffix from
   * there on, as Raft's AppendEntries does with a conflicting entry. The caller validates
   * that index is in (baseIndex, lastIndex + 1].
   */
  append(index: number, term: number): void {
    if (index <= this.#lastIndex) {
      const runs = this.#runs;
      while (runs.length > 0 && runs[runs.length - 1]!.start >= index) runs.pop();
    }
    this.#lastIndex = index;
    const last = this.#runs[this.#runs.length - 1];
    if (last === undefined || last.term !== term) this.#runs.push({ start: index, term });
  }

  /** Drops entries up to and including `index`, which must hold an entry of this log. */
  compactTo(index: number): void {
    const term = this.termAt(index);
    if (term === undefined) throw new RangeError(`Cannot compact to ${index}: not in the log`);
    this.#baseIndex = index;
    this.#baseTerm = term;
    const runs = this.#runs;
    let drop = 0;
    while (drop + 1 < runs.length && runs[drop + 1]!.start <= index + 1) drop++;
    runs.splice(0, drop);
    if (index === this.#lastIndex) runs.length = 0;
    else if (runs[0] !== undefined && runs[0].start <= index) runs[0] = { start: index + 1, term: runs[0].term };
  }

  /** Replaces the whole log by an empty one after (index, term) (an installed snapshot). */
  reset(index: number, term: number): void {
    this.#baseIndex = index;
    this.#baseTerm = term;
    this.#lastIndex = index;
    this.#runs = [];
  }
}

/**
 * A write load against a process cluster: concurrent workers put unique keys in small batches
 * through any live node (followers forward to the leader), retry what failed on another node
 * (a put of the same key and value is idempotent, so a retry after an unknown outcome is safe),
 * and remember every write a node acknowledged. Bounded in attempts and time.
 */
import type { ProcessCluster, RaftProcess } from './cluster.ts';

/** Per-op answer of POST /batch. */
interface OpResult {
  ok: boolean;
  index?: number;
  us?: number;
  error?: { code: string; message: string };
}

/** The load generator. */
export class Writers {
  readonly acked = new Map<string, string>();
  /** Commit latencies reported by the nodes (propose to apply), in microseconds. */
  readonly latenciesUs: number[] = [];
  /** Wall-clock time of every acknowledgement (ms), for failover measurements. */
  readonly ackTimes: number[] = [];
  failures = 0;
  #next = 0;
  #stopped = false;
  #rr = 0;
  readonly #c: ProcessCluster;
  readonly #prefix: string;
  readonly #valueBytes: number;
  readonly #maxKeys: number;
  /** Restrict writes to one node (e.g. the leader), or any live node when null. */
  target: (() => RaftProcess | undefined) | null = null;

  constructor(c: ProcessCluster, o: { prefix?: string; valueBytes?: number; maxKeys?: number } = {}) {
    this.#c = c;
    this.#prefix = o.prefix ?? 'w-';
    this.#valueBytes = o.valueBytes ?? 16;
    this.#maxKeys = o.maxKeys ?? 1_000_000;
  }

  valueOf(key: string): string {
    const base = `${key}:`;
    return base + 'x'.repeat(Math.max(0, this.#valueBytes - base.length));
  }

  #pick(): RaftProcess | undefined {
    const t = this.target?.();
    if (t !== undefined && !t.hasExited) return t;
    const live = this.#c.live();
    if (live.length === 0) return undefined;
    return live[this.#rr++ % live.length];
  }

  /** Runs `workers` loops of `batch` puts each until stop(); resolves when they end. */
  async run(workers: number, batch: number): Promise<void> {
    await Promise.all(Array.from({ length: workers }, () => this.#worker(batch)));
  }

  stop(): void {
    this.#stopped = true;
  }

  async #worker(batch: number): Promise<void> {
    while (!this.#stopped && this.#next < this.#maxKeys) {
      let keys: string[] = [];
      for (let i = 0; i < batch; i++) keys.push(`${this.#prefix}${String(this.#next++).padStart(7, '0')}`);
      for (let attempt = 0; attempt < 200 && keys.length > 0 && !this.#stopped; attempt++) {
        const node = this.#pick();
        if (node === undefined) break;
        keys = await this.#send(node, keys);
        if (keys.length > 0) await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  /** Sends one batch; returns the keys that were not acknowledged. */
  async #send(node: RaftProcess, keys: string[]): Promise<string[]> {
    const ops = keys.map((key) => ({ op: 'put', key, value: this.valueOf(key) }));
    let results: OpResult[];
    try {
      const r = await fetch(`http://127.0.0.1:${node.httpPort}/batch`, {
        method: 'POST',
        body: JSON.stringify({ ops }),
        signal: AbortSignal.timeout(15_000),
      });
      results = ((await r.json()) as { results: OpResult[] }).results;
    } catch {
      this.failures += keys.length;
      return keys;
    }
    const retry: string[] = [];
    const now = Date.now();
    results.forEach((res, i) => {
      const key = keys[i]!;
      if (res.ok) {
        this.acked.set(key, this.valueOf(key));
        this.ackTimes.push(now);
        if (res.us !== undefined) this.latenciesUs.push(res.us);
      } else {
        this.failures++;
        retry.push(key);
      }
    });
    return retry;
  }

  /** Polls until `pred` holds; throws after `ms`. */
  async until(pred: () => boolean, ms: number, what: string): Promise<void> {
    const end = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > end) throw new Error(`${what} not reached within ${ms} ms (acked ${this.acked.size}, failures ${this.failures})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

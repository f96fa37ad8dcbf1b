/**
 * A small Prometheus registry that runs unchanged on Node and Deno: counters, gauges and
 * histograms with labels, rendered in the text exposition format 0.0.4
 * (prometheus.io/docs/instrumenting/exposition_formats). Written here instead of taking
 * prom-client because that package depends on node:* modules (cluster, perf_hooks) and
 * collects process metrics we do not need.
 */
import { ErrorCode, codedError } from '../errors.ts';

/** Label values keyed by label name. */
export type LabelValues<L extends string> = Readonly<Record<L, string | number>>;

/** Common options of every metric. */
export type MetricOptions<L extends string> = {
  /** [a-zA-Z_:][a-zA-Z0-9_:]* */
  name: string;
  help: string;
  labelNames?: readonly L[];
};

/** Default histogram buckets in seconds (the client libraries' defaults). */
export const DEFAULT_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Content-Type of `Registry.metrics()` output. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function bad(message: string): Error {
  return codedError(RangeError, ErrorCode.BAD_METRIC, message);
}

/** Escapes a HELP line: backslash and newline (exposition format 0.0.4). */
export function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Escapes a label value: backslash, double quote and newline (exposition format 0.0.4). */
export function escapeLabelValue(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Formats a sample value as Go's ParseFloat reads it: NaN, +Inf, -Inf or a JS number. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

type Series<S> = { labels: string; state: S };

/** Shared parts of every metric: name, help, label names and the series map. */
abstract class Metric<L extends string, S> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  abstract readonly type: 'counter' | 'gauge' | 'histogram';
  protected readonly series = new Map<string, Series<S>>();

  constructor(options: MetricOptions<L>, reserved: readonly string[] = []) {
    if (!METRIC_NAME.test(options.name)) throw bad(`Metric name "${options.name}" is not valid; expected [a-zA-Z_:][a-zA-Z0-9_:]*`);
    const labels = options.labelNames ?? [];
    for (const l of labels) {
      if (!LABEL_NAME.test(l) || l.startsWith('__') || reserved.includes(l)) {
        throw bad(`Label name "${l}" of ${options.name} is not valid; expected [a-zA-Z_][a-zA-Z0-9_]*, not __* or ${reserved.join(', ') || 'reserved'}`);
      }
    }
    if (new Set(labels).size !== labels.length) throw bad(`Label names of ${options.name} repeat`);
    this.name = options.name;
    this.help = options.help;
    this.labelNames = labels;
  }

  protected abstract initial(): S;

  /** The series for a label set, created on first use. */
  protected at(values: LabelValues<L> | undefined): S {
    const key = this.key(values);
    let s = this.series.get(key);
    if (s === undefined) {
      s = { labels: key, state: this.initial() };
      this.series.set(key, s);
    }
    return s.state;
  }

  /** The rendered `{a="x",b="y"}` of a label set (also the series key). */
  private key(values: LabelValues<L> | undefined): string {
    if (this.labelNames.length === 0) {
      if (values !== undefined && Object.keys(values).length > 0) throw bad(`Metric ${this.name} takes no labels`);
      return '';
    }
    if (values === undefined) throw bad(`Metric ${this.name} needs labels ${this.labelNames.join(', ')}`);
    const given = Object.keys(values);
    if (given.length !== this.labelNames.length) {
      throw bad(`Metric ${this.name} needs exactly labels ${this.labelNames.join(', ')}; got ${given.join(', ')}`);
    }
    const parts: string[] = [];
    for (const l of this.labelNames) {
      const v = values[l];
      if (v === undefined) throw bad(`Metric ${this.name} is missing label ${l}`);
      parts.push(`${l}="${escapeLabelValue(String(v))}"`);
    }
    return `{${parts.join(',')}}`;
  }

  /** Drops the series of one label set (e.g. an exit that left the registry). */
  remove(values: LabelValues<L>): void {
    this.series.delete(this.key(values));
  }

  /** Drops every series. */
  reset(): void {
    this.series.clear();
    if (this.labelNames.length === 0) this.at(undefined);
  }

  /** True when this metric was declared with the same type and labels. */
  sameShape(type: string, labelNames: readonly string[]): boolean {
    return this.type === type && this.labelNames.length === labelNames.length && this.labelNames.every((l, i) => l === labelNames[i]);
  }

  /** Runs before rendering (gauges computed at scrape time). */
  collect(): void {}

  protected abstract samples(labels: string, state: S): string[];

  /** The HELP, TYPE and sample lines of this metric. */
  render(): string {
    this.collect();
    const lines = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`];
    for (const s of this.series.values()) lines.push(...this.samples(s.labels, s.state));
    return lines.join('\n');
  }
}

type Cell = { value: number };

/** A monotonically increasing count. */
export class Counter<L extends string = never> extends Metric<L, Cell> {
  readonly type = 'counter' as const;

  constructor(options: MetricOptions<L>) {
    super(options);
    // An unlabelled counter is exported as 0 before its first increment, so rate() sees it.
    if (this.labelNames.length === 0) this.at(undefined);
  }

  protected initial(): Cell {
    return { value: 0 };
  }

  /** Adds `value` (default 1, must be >= 0). */
  inc(labels?: LabelValues<L> | number, value = 1): void {
    if (typeof labels === 'number') [labels, value] = [undefined, labels];
    if (!(value >= 0)) throw bad(`Counter ${this.name} can only increase; got ${value}`);
    this.at(labels).value += value;
  }

  /** The current value of one series (0 when never touched). */
  get(labels?: LabelValues<L>): number {
    return this.at(labels).value;
  }

  /** A handle bound to one label set, for hot paths. */
  labels(labels: LabelValues<L>): { inc(value?: number): void } {
    const cell = this.at(labels);
    const name = this.name;
    return {
      inc(value = 1) {
        if (!(value >= 0)) throw bad(`Counter ${name} can only increase; got ${value}`);
        cell.value += value;
      },
    };
  }

  protected samples(labels: string, state: Cell): string[] {
    return [`${this.name}${labels} ${formatValue(state.value)}`];
  }
}

/** A value that goes up and down; `collect` may set it at scrape time. */
export class Gauge<L extends string = never> extends Metric<L, Cell> {
  readonly type = 'gauge' as const;
  private readonly collector: ((gauge: Gauge<L>) => void) | undefined;

  constructor(options: MetricOptions<L> & { collect?: (gauge: Gauge<L>) => void }) {
    super(options);
    this.collector = options.collect;
    if (this.labelNames.length === 0) this.at(undefined);
  }

  protected initial(): Cell {
    return { value: 0 };
  }

  /** Sets the value. */
  set(labels: LabelValues<L> | number, value?: number): void {
    if (typeof labels === 'number') this.at(undefined).value = labels;
    else this.at(labels).value = value ?? 0;
  }

  /** Adds `value` (default 1). */
  inc(labels?: LabelValues<L> | number, value = 1): void {
    if (typeof labels === 'number') [labels, value] = [undefined, labels];
    this.at(labels).value += value;
  }

  /** Subtracts `value` (default 1). */
  dec(labels?: LabelValues<L> | number, value = 1): void {
    if (typeof labels === 'number') [labels, value] = [undefined, labels];
    this.at(labels).value -= value;
  }

  /** The current value of one series (0 when never touched). */
  get(labels?: LabelValues<L>): number {
    return this.at(labels).value;
  }

  /** A handle bound to one label set, for hot paths. */
  labels(labels: LabelValues<L>): { set(v: number): void; inc(v?: number): void; dec(v?: number): void } {
    const cell = this.at(labels);
    return {
      set: (v) => void (cell.value = v),
      inc: (v = 1) => void (cell.value += v),
      dec: (v = 1) => void (cell.value -= v),
    };
  }

  override collect(): void {
    this.collector?.(this);
  }

  protected samples(labels: string, state: Cell): string[] {
    return [`${this.name}${labels} ${formatValue(state.value)}`];
  }
}

type Buckets = { counts: number[]; sum: number; count: number };

/** Observations counted into cumulative buckets, plus their sum and count. */
export class Histogram<L extends string = never> extends Metric<L, Buckets> {
  readonly type = 'histogram' as const;
  readonly buckets: readonly number[];

  constructor(options: MetricOptions<L> & { buckets?: readonly number[] }) {
    super(options, ['le']);
    const buckets = (options.buckets ?? DEFAULT_BUCKETS).filter((b) => b !== Infinity);
    if (buckets.length === 0 || buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1]!))) {
      throw bad(`Buckets of ${options.name} must be finite and strictly increasing`);
    }
    this.buckets = buckets;
    if (this.labelNames.length === 0) this.at(undefined);
  }

  protected initial(): Buckets {
    return { counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
  }

  /** Records one observation. */
  observe(labels: LabelValues<L> | number, value?: number): void {
    if (typeof labels === 'number') this.record(this.at(undefined), labels);
    else this.record(this.at(labels), value ?? 0);
  }

  /** A handle bound to one label set, for hot paths. */
  labels(labels: LabelValues<L>): { observe(v: number): void } {
    const state = this.at(labels);
    return { observe: (v) => this.record(state, v) };
  }

  /** Starts a timer; calling the result observes the elapsed seconds and returns them. */
  startTimer(labels?: LabelValues<L>): () => number {
    const state = this.at(labels);
    const start = performance.now();
    return () => {
      const seconds = (performance.now() - start) / 1000;
      this.record(state, seconds);
      return seconds;
    };
  }

  private record(state: Buckets, v: number): void {
    if (Number.isNaN(v)) throw bad(`Histogram ${this.name} cannot observe NaN`);
    // Only the first bucket that fits is counted here; rendering makes them cumulative.
    const i = this.buckets.findIndex((b) => v <= b);
    if (i >= 0) state.counts[i]! += 1;
    state.sum += v;
    state.count += 1;
  }

  protected samples(labels: string, state: Buckets): string[] {
    const inner = labels === '' ? '' : `${labels.slice(1, -1)},`;
    const lines: string[] = [];
    let cumulative = 0;
    this.buckets.forEach((b, i) => {
      cumulative += state.counts[i]!;
      lines.push(`${this.name}_bucket{${inner}le="${formatValue(b)}"} ${cumulative}`);
    });
    lines.push(`${this.name}_bucket{${inner}le="+Inf"} ${state.count}`);
    lines.push(`${this.name}_sum${labels} ${formatValue(state.sum)}`);
    lines.push(`${this.name}_count${labels} ${state.count}`);
    return lines;
  }
}

type AnyMetric = Counter<string> | Gauge<string> | Histogram<string>;

/** A set of metrics rendered together on /metrics. */
export class Registry {
  private readonly byName = new Map<string, AnyMetric>();

  /** Declares (or returns the already declared, identical) counter. */
  counter<L extends string = never>(options: MetricOptions<L>): Counter<L> {
    return this.declare(options, 'counter', () => new Counter<L>(options));
  }

  /** Declares (or returns the already declared, identical) gauge. */
  gauge<L extends string = never>(options: MetricOptions<L> & { collect?: (gauge: Gauge<L>) => void }): Gauge<L> {
    return this.declare(options, 'gauge', () => new Gauge<L>(options));
  }

  /** Declares (or returns the already declared, identical) histogram. */
  histogram<L extends string = never>(options: MetricOptions<L> & { buckets?: readonly number[] }): Histogram<L> {
    return this.declare(options, 'histogram', () => new Histogram<L>(options));
  }

  private declare<M>(options: MetricOptions<string>, type: string, make: () => M): M {
    const existing = this.byName.get(options.name);
    if (existing !== undefined) {
      if (!existing.sameShape(type, options.labelNames ?? [])) {
        throw bad(`Metric ${options.name} is already declared as a ${existing.type} with labels ${existing.labelNames.join(', ') || 'none'}`);
      }
      return existing as M;
    }
    const metric = make();
    this.byName.set(options.name, metric as AnyMetric);
    return metric;
  }

  /** The metric with this name, if declared. */
  get(name: string): AnyMetric | undefined {
    return this.byName.get(name);
  }

  /** Everything in the text exposition format 0.0.4, in declaration order. */
  metrics(): string {
    const parts = [...this.byName.values()].map((m) => m.render());
    return parts.length === 0 ? '' : `${parts.join('\n')}\n`;
  }

  /** Content-Type header for `metrics()`. */
  readonly contentType = EXPOSITION_CONTENT_TYPE;
}

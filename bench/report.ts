/**
 * Benchmark reporting shared by every bench/ scenario. A result is one measured number,
 * optionally next to a baseline measured in the same run. With `--json` each result is one
 * JSON line: { scenario, metric, value, unit, baseline?, ratio? }.
 */
export interface BenchResult {
  scenario: string;
  metric: string;
  value: number;
  unit: string;
  baseline?: number;
  ratio?: number;
}

export interface Reporter {
  report(result: BenchResult): void;
}

/** Builds a reporter that prints JSON lines or an aligned human-readable line. */
export function createReporter(json: boolean, write: (line: string) => void = (l) => console.log(l)): Reporter {
  return {
    report(result) {
      const r: BenchResult = { ...result };
      if (r.baseline !== undefined && r.ratio === undefined && r.baseline !== 0) r.ratio = r.value / r.baseline;
      if (json) {
        write(JSON.stringify(r));
        return;
      }
      const base =
        r.baseline === undefined ? '' : `  (baseline ${fmt(r.baseline)} ${r.unit}, ratio ${fmt(r.ratio ?? NaN)})`;
      write(`${r.scenario.padEnd(34)} ${r.metric.padEnd(22)} ${fmt(r.value).padStart(12)} ${r.unit}${base}`);
    },
  };
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 1000) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(3);
}

/** Median of a non-empty list of numbers. */
export function median(values: number[]): number {
  return percentile(values, 50);
}

/** The p-th percentile (nearest rank) of a non-empty list of numbers. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) throw new RangeError('Percentile of an empty list: expected at least one value');
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

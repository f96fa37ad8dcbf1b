/**
 * Looking at running roles from outside: Prometheus text from /metrics, resident memory from
 * /proc (Linux), and the handler's admin API.
 */
import { readFileSync } from 'node:fs';
import { within } from './wait.ts';

/** GETs a URL with a deadline; resolves with status and text. */
export async function httpGet(url: string, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, text: await res.text() };
}

/** One sample of the Prometheus text format 0.0.4. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses Prometheus text (comments skipped). */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, '$1');
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of the samples named `name` whose labels include `labels`. */
export function metricSum(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  }
  return sum;
}

/** True when any sample is named `name`. */
export function hasMetric(samples: readonly Sample[], name: string): boolean {
  return samples.some((s) => s.name === name);
}

/** Fetches and parses /metrics at `url`. */
export async function scrape(url: string, headers: Record<string, string> = {}): Promise<Sample[]> {
  const r = await httpGet(url, headers);
  if (r.status !== 200) throw new Error(`GET ${url} answered ${r.status}: ${r.text.slice(0, 200)}`);
  return parseMetrics(r.text);
}

/** Resident set size of `pid` in bytes (VmRSS in /proc/<pid>/status); undefined off Linux or once gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

/**
 * CPU time (user + system) `pid` has used, in seconds, from /proc/<pid>/stat (fields 14 and
 * 15, in clock ticks of 1/100 s, the Linux USER_HZ); undefined off Linux or once gone.
 */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields after it start past the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** True when /proc RSS sampling works here. */
export const CAN_SAMPLE_RSS: boolean = rssBytes(process.pid) !== undefined;

/** Samples the RSS of several pids every `intervalMs` until stop(); keeps each one's maximum. */
export class RssSampler {
  readonly max = new Map<string, number>();
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #pids: Record<string, number>;

  constructor(pids: Record<string, number>, intervalMs = 250) {
    this.#pids = pids;
    this.sample();
    this.#timer = setInterval(() => this.sample(), intervalMs);
  }

  /** Takes one sample now. */
  sample(): void {
    for (const [name, pid] of Object.entries(this.#pids)) {
      const v = rssBytes(pid);
      if (v !== undefined && v > (this.max.get(name) ?? 0)) this.max.set(name, v);
    }
  }

  /** Stops sampling and returns the maxima. */
  stop(): Map<string, number> {
    clearInterval(this.#timer);
    this.sample();
    return this.max;
  }
}

/** Calls the handler admin API (JSON in and out) with the bearer token. */
export async function adminCall(
  adminPort: number,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown; text: string }> {
  const init: RequestInit = {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    signal: AbortSignal.timeout(10_000),
  };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await within(fetch(`http://127.0.0.1:${adminPort}${path}`, init), 15_000, `${method} ${path}`);
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text };
}

/** Formats bytes as MiB with one decimal. */
export function mib(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`;
}

/**
 * Health of one exit, as a pure state machine driven by signals and an injected clock.
 *
 * Active health: link heartbeats bring RTT samples; `maxMissedHeartbeats` misses in a row, or
 * a lost link, mark the exit down until the next heartbeat or link-up.
 * Passive health (Envoy-style outlier detection): OPEN failures and stalls that are the exit's
 * fault count as consecutive failures; at `failureThreshold` the exit is ejected for
 * min(cap, base * 2^level), shortened by up to `jitter` (a fraction, drawn from the injected
 * PRNG so ejections of many exits do not line up). When the ejection ends the exit is
 * half-open: exactly one probe stream may use it; success restores it, failure ejects it
 * again one level higher. A probe that never reports back is given up after `probeTimeoutMs`.
 */
import { codedError, ErrorCode } from '../../shared/errors.ts';

/** Tunables; every one has a default. */
export type HealthOptions = {
  readonly maxMissedHeartbeats?: number;
  readonly failureThreshold?: number;
  readonly baseEjectionMs?: number;
  readonly maxEjectionMs?: number;
  readonly jitter?: number;
  readonly probeTimeoutMs?: number;
  /** Weight of a new RTT sample in the moving average (default 0.2). */
  readonly rttAlpha?: number;
  /** Whether an exit counts as up before its first heartbeat (default true). */
  readonly startUp?: boolean;
};

/** Defaults used for any option left out. */
export const DEFAULT_HEALTH: Required<HealthOptions> = {
  maxMissedHeartbeats: 3,
  failureThreshold: 5,
  baseEjectionMs: 10_000,
  maxEjectionMs: 300_000,
  jitter: 0.2,
  probeTimeoutMs: 30_000,
  rttAlpha: 0.2,
  startUp: true,
};

/** Where an exit stands. 'half_open' admits one probe; 'probing' has one in flight. */
export type HealthStatus = 'up' | 'down' | 'ejected' | 'half_open' | 'probing';

/** Whether a new stream may use the exit now, and if so whether as the half-open probe. */
export type Availability = 'yes' | 'probe' | 'no';

/** A read-only view for metrics and the admin API. */
export type HealthSnapshot = {
  readonly status: HealthStatus;
  readonly rttMs: number | null;
  readonly missedHeartbeats: number;
  readonly consecutiveFailures: number;
  readonly ejections: number;
  readonly ejectedUntil: number | null;
};

/** The health of one exit. All methods take `now` in milliseconds from the injected clock. */
export type ExitHealth = {
  status(now: number): HealthStatus;
  availability(now: number): Availability;
  heartbeat(rttMs: number): void;
  heartbeatMissed(): void;
  linkUp(): void;
  linkDown(): void;
  /** An OPEN through this exit succeeded. */
  success(now: number): void;
  /** An OPEN failed for a reason of the exit's own, or a stream stalled. */
  failure(now: number): void;
  /** Marks the half-open probe as taken (the selector calls this when it hands it out). */
  beginProbe(now: number): void;
  snapshot(now: number): HealthSnapshot;
};

const bad = (message: string) => codedError(RangeError, ErrorCode.BAD_CONFIG, message);

/** Fills defaults and validates; throws RangeError with code BAD_CONFIG naming the option. */
export function resolveHealthOptions(options: HealthOptions = {}): Required<HealthOptions> {
  const o = { ...DEFAULT_HEALTH, ...options };
  const positive = (v: number) => Number.isFinite(v) && v > 0;
  if (!Number.isInteger(o.maxMissedHeartbeats) || o.maxMissedHeartbeats < 1) {
    throw bad(`health.maxMissedHeartbeats must be an integer >= 1, got ${o.maxMissedHeartbeats}`);
  }
  if (!Number.isInteger(o.failureThreshold) || o.failureThreshold < 1) {
    throw bad(`health.failureThreshold must be an integer >= 1, got ${o.failureThreshold}`);
  }
  if (!positive(o.baseEjectionMs) || !positive(o.maxEjectionMs) || o.maxEjectionMs < o.baseEjectionMs) {
    throw bad('health.baseEjectionMs and maxEjectionMs must be positive with base <= max');
  }
  if (!(o.jitter >= 0 && o.jitter < 1)) throw bad(`health.jitter must be in [0, 1), got ${o.jitter}`);
  if (!positive(o.probeTimeoutMs)) throw bad(`health.probeTimeoutMs must be positive, got ${o.probeTimeoutMs}`);
  if (!(o.rttAlpha > 0 && o.rttAlpha <= 1)) throw bad(`health.rttAlpha must be in (0, 1], got ${o.rttAlpha}`);
  return o;
}

/** Creates the health state of one exit. `random` returns a float in [0, 1). */
export function createExitHealth(options: Required<HealthOptions>, random: () => number): ExitHealth {
  let linkUp = options.startUp;
  let missed = 0;
  let rtt: number | null = null;
  let failures = 0;
  let level = 0; // ejections in a row without a lasting recovery
  let ejections = 0;
  let ejectedUntil: number | null = null;
  let probeStartedAt: number | null = null;
  let restoredAt: number | null = null;

  const activeUp = () => linkUp && missed < options.maxMissedHeartbeats;

  const passive = (now: number): 'up' | 'ejected' | 'half_open' | 'probing' => {
    if (ejectedUntil === null) return 'up';
    if (now < ejectedUntil) return 'ejected';
    if (probeStartedAt !== null && now - probeStartedAt < options.probeTimeoutMs) return 'probing';
    return 'half_open';
  };

  const eject = (now: number) => {
    // A recovery that lasted a full cap period forgives earlier ejections.
    if (restoredAt !== null && now - restoredAt >= options.maxEjectionMs) level = 0;
    const full = Math.min(options.maxEjectionMs, options.baseEjectionMs * 2 ** level);
    const delay = full * (1 - options.jitter * random());
    ejectedUntil = now + delay;
    probeStartedAt = null;
    level = Math.min(level + 1, 52);
    ejections++;
    failures = 0;
  };

  const status = (now: number): HealthStatus => {
    if (!activeUp()) return 'down';
    return passive(now);
  };

  return {
    status,
    availability(now) {
      const s = status(now);
      return s === 'up' ? 'yes' : s === 'half_open' ? 'probe' : 'no';
    },
    heartbeat(rttMs) {
      linkUp = true;
      missed = 0;
      if (Number.isFinite(rttMs) && rttMs >= 0) {
        rtt = rtt === null ? rttMs : rtt + options.rttAlpha * (rttMs - rtt);
      }
    },
    heartbeatMissed() {
      missed++;
    },
    linkUp() {
      linkUp = true;
      missed = 0;
    },
    linkDown() {
      linkUp = false;
    },
    success(now) {
      const p = passive(now);
      // A late success from a stream opened before the ejection does not cut it short.
      if (p === 'ejected') return;
      failures = 0;
      if (p !== 'up') {
        ejectedUntil = null;
        probeStartedAt = null;
        restoredAt = now;
      }
    },
    failure(now) {
      const p = passive(now);
      if (p === 'ejected') return;
      if (p === 'half_open' || p === 'probing') {
        eject(now);
        return;
      }
      failures++;
      if (failures >= options.failureThreshold) eject(now);
    },
    beginProbe(now) {
      if (passive(now) === 'half_open') probeStartedAt = now;
    },
    snapshot(now) {
      return {
        status: status(now),
        rttMs: rtt,
        missedHeartbeats: missed,
        consecutiveFailures: failures,
        ejections,
        ejectedUntil,
      };
    },
  };
}

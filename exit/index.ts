/** The exit role (docs/exit.md): startExit and the pieces other code may want to reuse. */
export { startExit, type ExitOptions, type ExitStats, type RunningExit } from './main.ts';
export { createEgressPolicy, LOOPBACK_ALLOW, type EgressDecision, type EgressDenyReason, type EgressPolicy, type EgressPolicyOptions } from './egress/policy.ts';
export { connectEgress, resolveAllowed, type EgressNet, type EgressSettings } from './egress/connect.ts';
export type { ReverseDialerState } from './link/dialer.ts';
export type { BackoffOptions } from './link/backoff.ts';

/**
 * Which JavaScript runtime is executing. The adapters in shared/runtime/ use the node:* API
 * surface on both Node and Deno (Deno 2 implements node:net, node:tls, node:http, node:dgram
 * and node:dns); this module exists so logs, metrics and the few places where the two differ
 * can say which one they are on.
 */

type DenoGlobal = { version?: { deno?: string } };

const denoGlobal = (globalThis as { Deno?: DenoGlobal }).Deno;

/** The runtime family: 'deno' when the Deno namespace is present, otherwise 'node'. */
export const runtime: 'node' | 'deno' = denoGlobal?.version?.deno !== undefined ? 'deno' : 'node';

/** The runtime's own version string, e.g. '20.19.0' for Node or '2.1.4' for Deno. */
export const runtimeVersion: string =
  runtime === 'deno'
    ? (denoGlobal?.version?.deno ?? 'unknown')
    : ((globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node ??
      'unknown');

/** True when running on Deno. */
export const isDeno: boolean = runtime === 'deno';

/** True when running on Node. */
export const isNode: boolean = runtime === 'node';

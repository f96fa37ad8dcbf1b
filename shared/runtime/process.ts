import process from 'node:process';

/** Signals that ask a service to stop (Ctrl-C, `kill`, container stop). */
export type ShutdownSignal = 'SIGINT' | 'SIGTERM';

/**
 * Calls `handler` once on the first SIGINT or SIGTERM (node:process signal events work on
 * Node and Deno). While the handler is registered the default "exit at once" is suppressed,
 * so the caller can drain connections and exit itself; a second signal exits at once with
 * 128 + signal number (130 or 143), as shells expect. Returns an unsubscribe function.
 */
export function onShutdownSignal(handler: (signal: ShutdownSignal) => void): () => void {
  const signals: ShutdownSignal[] = ['SIGINT', 'SIGTERM'];
  let fired = false;
  const listener = (signal: NodeJS.Signals): void => {
    if (fired) process.exit(signal === 'SIGINT' ? 130 : 143);
    fired = true;
    handler(signal as ShutdownSignal);
  };
  for (const signal of signals) process.on(signal, listener);
  return () => {
    for (const signal of signals) process.off(signal, listener);
  };
}

/** Ends the process with `code` (the only sanctioned exit outside cli/). */
export function exitProcess(code: number): never {
  process.exit(code);
}

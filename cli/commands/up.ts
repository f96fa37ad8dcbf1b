/** `apfsds up`: the all-in-one run (handler + exit + local proxy). */
export const summary = 'Run handler, exit and local SOCKS5/HTTP proxy together on this machine';

export async function run(_argv: string[]): Promise<number> {
  console.error('apfsds up: not yet: the all-in-one data plane lands with the data-plane issue.');
  return 1;
}

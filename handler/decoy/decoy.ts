/** Picks the decoy for the configured mode. */
import type { DecoyConfig } from '../../shared/config/handler.ts';
import { builtinDecoy } from './builtin.ts';
import { proxyDecoy } from './proxy.ts';
import { staticDecoy } from './static.ts';

/** Answers one non-tunnel HTTP request. */
export type Decoy = (req: Request) => Response | Promise<Response>;

/** The decoy of `decoy.mode`: builtin pages, a static directory, or a reverse-proxied site. */
export function createDecoy(config: DecoyConfig): Decoy {
  switch (config.mode) {
    case 'builtin':
      return builtinDecoy;
    case 'static':
      return staticDecoy(config.dir);
    case 'proxy':
      return proxyDecoy(config.upstream);
  }
}

/** The decoy site every non-tunnel request sees (ARCHITECTURE 3, failure answers). */
export { builtinDecoy, BUILTIN_LAST_MODIFIED } from './builtin.ts';
export { staticDecoy, contentTypeOf, safeSegments, MAX_STATIC_FILE } from './static.ts';
export { proxyDecoy, DEFAULT_DECOY_PROXY_TIMEOUT_MS, type ProxyDecoyOptions } from './proxy.ts';
export { fileResponse, entityTag, httpDate, isReadMethod } from './respond.ts';
export { createDecoy, type Decoy } from './decoy.ts';

// The runtime-neutral surface of shared/runtime: the only folder that touches node:* or Deno.*.
// Engine files (websocket-node.ts, http-server-node.ts) stay internal to this folder.
export * from './detect.ts';
export * from './deadline.ts';
export * from './dns.ts';
export * from './fs.ts';
export * from './http-server.ts';
export * from './process.ts';
export * from './tcp.ts';
export { certificateSha256, loadServerTls, parsePinSha256, pemToDer, pinOfPem } from './tls.ts';
export type { ClientTlsOptions, ServerTlsOptions, TlsVerifyError, TlsVerifyReason } from './tls.ts';
export * from './udp.ts';
export * from './websocket.ts';
export * from './ws-client.ts';

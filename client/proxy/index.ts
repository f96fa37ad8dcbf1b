/** Local proxy protocols: SOCKS5 and HTTP on one port, pure parsers and encoders. */
export * from './target.ts';
export * from './auth.ts';
export * from './failure.ts';
export * from './detect.ts';
export * from './socks5.ts';
export * from './socks5-udp.ts';
export * from './http-head.ts';
export * from './http-body.ts';
export * from './http-response.ts';
export * from './http.ts';

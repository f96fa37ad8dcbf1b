/**
 * How every decoy answer is shaped: one fixed header set (type, length, validators, caching)
 * for pages, 404s and 405s alike, so the answer to an unknown path (the secret path included)
 * differs from a real page only in status and body, as on any static host. HEAD gets the
 * headers of GET without the body (RFC 9110 9.3.2).
 */

const utf8 = new TextEncoder();

/** Methods a static site serves; anything else is 405. */
export function isReadMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD';
}

/** HTTP-date of a millisecond timestamp (RFC 9110 5.6.7). */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

/** An nginx-style entity tag: hex mtime (seconds) and hex length. */
export function entityTag(lastModifiedMs: number, length: number): string {
  return `"${Math.floor(lastModifiedMs / 1000).toString(16)}-${length.toString(16)}"`;
}

/** Builds a decoy answer with the fixed header set. */
export function fileResponse(
  status: number,
  body: Uint8Array | string,
  contentType: string,
  method: string,
  lastModifiedMs: number,
): Response {
  const bytes = typeof body === 'string' ? utf8.encode(body) : body;
  const headers = new Headers([
    ['Content-Type', contentType],
    ['Content-Length', String(bytes.byteLength)],
    ['Last-Modified', httpDate(lastModifiedMs)],
    ['ETag', entityTag(lastModifiedMs, bytes.byteLength)],
    ['Cache-Control', 'public, max-age=600'],
    ['X-Content-Type-Options', 'nosniff'],
  ]);
  // Response wants an ArrayBuffer-backed view; ours always are (TextEncoder, file reads).
  return new Response(method === 'HEAD' ? null : (bytes as Uint8Array<ArrayBuffer>), { status, headers });
}

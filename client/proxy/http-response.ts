/**
 * Response heads the local HTTP proxy writes itself (all other responses come from the origin
 * verbatim). Errors carry a short text body with Content-Length and `Connection: close`, since
 * the proxy closes the connection after any error it reports.
 */

/** Reason phrases for the statuses the proxy emits (RFC 9110 section 15). */
export const HTTP_REASONS: { readonly [status: number]: string } = {
  200: 'Connection established',
  400: 'Bad Request',
  403: 'Forbidden',
  405: 'Method Not Allowed',
  407: 'Proxy Authentication Required',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

const latin1 = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
const utf8 = new TextEncoder();

/**
 * The reply to a successful CONNECT. RFC 9110 section 9.3.6: a 2xx to CONNECT carries no
 * Content-Length or Transfer-Encoding; the tunnel starts right after the blank line.
 */
export function encodeConnectEstablished(): Uint8Array {
  return latin1('HTTP/1.1 200 Connection established\r\n\r\n');
}

/** An error response head plus a one-line text body; `headers` are added before the body. */
export function encodeHttpError(
  status: number,
  headers: ReadonlyArray<readonly [string, string]> = [],
): Uint8Array {
  const reason = HTTP_REASONS[status] ?? 'Error';
  const body = utf8.encode(`${status} ${reason}\n`);
  let head = `HTTP/1.1 ${status} ${reason}\r\n`;
  for (const [name, value] of headers) head += `${name}: ${value}\r\n`;
  head += 'Content-Type: text/plain; charset=utf-8\r\n';
  head += `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
  const headBytes = latin1(head);
  const out = new Uint8Array(headBytes.length + body.length);
  out.set(headBytes, 0);
  out.set(body, headBytes.length);
  return out;
}

/** 407 with a Basic challenge (RFC 9110 section 11.7.1, RFC 7617 section 2). */
export function encodeProxyAuthRequired(realm = 'apfsds'): Uint8Array {
  const quoted = realm.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\x00-\x1f\x7f]/g, '');
  return encodeHttpError(407, [['Proxy-Authenticate', `Basic realm="${quoted}", charset="UTF-8"`]]);
}

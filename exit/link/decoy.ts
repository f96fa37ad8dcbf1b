/**
 * What the exit's link listener says to everything that is not a link: a stock 404 page, the
 * same for every path, method and malformed upgrade, so a scanner sees an ordinary web server
 * with nothing on it (docs/architecture.md section 3: failures reveal no tunnel).
 */

const BODY = '<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n</body>\r\n</html>\r\n';

/** The fetch handler of the link listener. */
export function decoyResponse(req: Request): Response {
  const headers = { 'content-type': 'text/html', 'content-length': String(BODY.length) };
  return new Response(req.method === 'HEAD' ? null : BODY, { status: 404, headers });
}

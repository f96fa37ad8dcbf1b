/**
 * The built-in decoy (decoy.mode builtin): a few static pages, a stylesheet, robots.txt and a
 * 404 page in the site's own style. The trailing-slash form of a page is the same page, as on
 * most static hosts; the query string is ignored.
 */
import { BUILTIN_FILES, BUILTIN_NOT_ALLOWED, BUILTIN_NOT_FOUND } from './site.ts';
import { fileResponse, isReadMethod } from './respond.ts';

/** The moment the built-in site claims it was last changed (a fixed date, so restarts do not show). */
export const BUILTIN_LAST_MODIFIED = Date.UTC(2025, 2, 4, 9, 12, 44);

/** Answers one request from the built-in site. */
export function builtinDecoy(req: Request): Response {
  if (!isReadMethod(req.method)) {
    return fileResponse(405, BUILTIN_NOT_ALLOWED.body, BUILTIN_NOT_ALLOWED.contentType, 'GET', BUILTIN_LAST_MODIFIED);
  }
  let path = new URL(req.url).pathname;
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  const file = BUILTIN_FILES.get(path);
  if (file === undefined) {
    return fileResponse(404, BUILTIN_NOT_FOUND.body, BUILTIN_NOT_FOUND.contentType, req.method, BUILTIN_LAST_MODIFIED);
  }
  return fileResponse(200, file.body, file.contentType, req.method, BUILTIN_LAST_MODIFIED);
}

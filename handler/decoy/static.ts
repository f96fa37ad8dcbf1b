/**
 * The static-directory decoy (decoy.mode static): serves the operator's own site from
 * `decoy.dir`. Paths are decoded and checked segment by segment (no `..`, no hidden files
 * such as `.git`, no backslashes or NULs), `/dir/` serves `dir/index.html`, and an
 * extensionless path also tries `.html`. Unknown paths get the site's `404.html` when it has
 * one, else the built-in 404 page.
 */
import { joinPath, readFileBytes } from '../../shared/runtime/fs.ts';
import { BUILTIN_NOT_ALLOWED, BUILTIN_NOT_FOUND } from './site.ts';
import { fileResponse, isReadMethod } from './respond.ts';

const TYPES: Readonly<Record<string, string>> = {
  html: 'text/html; charset=utf-8',
  htm: 'text/html; charset=utf-8',
  css: 'text/css; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  mjs: 'text/javascript; charset=utf-8',
  json: 'application/json',
  txt: 'text/plain; charset=utf-8',
  xml: 'application/xml',
  svg: 'image/svg+xml',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  ico: 'image/x-icon',
  woff: 'font/woff',
  woff2: 'font/woff2',
  pdf: 'application/pdf',
  webmanifest: 'application/manifest+json',
};

/** Largest file the decoy reads into memory; bigger ones answer 404 like missing files. */
export const MAX_STATIC_FILE = 16 << 20;

/** Media type of a file name by extension (application/octet-stream when unknown). */
export function contentTypeOf(name: string): string {
  const dot = name.lastIndexOf('.');
  const ext = dot < 0 ? '' : name.slice(dot + 1).toLowerCase();
  return TYPES[ext] ?? 'application/octet-stream';
}

/** The safe relative segments of a URL path, or null when the path must not be served. */
export function safeSegments(pathname: string): string[] | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  const segments = decoded.split('/').filter((s) => s.length > 0);
  for (const s of segments) {
    if (s.startsWith('.') || s.includes('\\') || s.includes('\u0000')) return null;
  }
  return segments;
}

async function readCapped(path: string): Promise<Uint8Array | null> {
  try {
    const bytes = await readFileBytes(path);
    return bytes.byteLength > MAX_STATIC_FILE ? null : bytes;
  } catch {
    // Missing, a directory, unreadable: all look the same from outside.
    return null;
  }
}

/** Builds the static decoy over `dir`. */
export function staticDecoy(dir: string, lastModifiedMs: number = Date.now()): (req: Request) => Promise<Response> {
  const notFound = async (method: string): Promise<Response> => {
    const page = await readCapped(joinPath(dir, '404.html'));
    if (page !== null) return fileResponse(404, page, TYPES['html']!, method, lastModifiedMs);
    return fileResponse(404, BUILTIN_NOT_FOUND.body, BUILTIN_NOT_FOUND.contentType, method, lastModifiedMs);
  };
  return async (req) => {
    if (!isReadMethod(req.method)) {
      return fileResponse(405, BUILTIN_NOT_ALLOWED.body, BUILTIN_NOT_ALLOWED.contentType, 'GET', lastModifiedMs);
    }
    const pathname = new URL(req.url).pathname;
    const segments = safeSegments(pathname);
    if (segments === null) return notFound(req.method);
    const candidates: string[] = [];
    const base = joinPath(dir, ...segments);
    if (pathname.endsWith('/') || segments.length === 0) candidates.push(joinPath(base, 'index.html'));
    else {
      candidates.push(base, joinPath(base, 'index.html'));
      if (!segments[segments.length - 1]!.includes('.')) candidates.push(`${base}.html`);
    }
    for (const path of candidates) {
      const bytes = await readCapped(path);
      if (bytes !== null) return fileResponse(200, bytes, contentTypeOf(path), req.method, lastModifiedMs);
    }
    return notFound(req.method);
  };
}

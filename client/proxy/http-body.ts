/**
 * Request body framing for the plain-HTTP proxy path (RFC 9112 section 6): finds where a
 * Content-Length or chunked body ends so the proxy forwards exactly one request's bytes. The
 * body is forwarded verbatim (never re-chunked); this only counts.
 */

/** How the request body is delimited. */
export type BodyFraming =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly length: number }
  | { readonly kind: 'chunked' };

/** Limits for the chunked decoder. */
export type BodyLimits = {
  /** Longest chunk-size line including extensions (default 4096). */
  readonly maxChunkLine?: number;
  /** Total bytes of trailer fields (default 16384). */
  readonly maxTrailerBytes?: number;
};

/** How much of a chunk belongs to the body, or why the body is malformed. */
export type BodyStep = { readonly used: number; readonly done: boolean } | { readonly error: string };

/** Tracks one request body. */
export type BodyTracker = {
  readonly done: boolean;
  /** Consumes body bytes from the start of `chunk`; `used` may be less than its length. */
  push(chunk: Uint8Array): BodyStep;
};

// Largest chunk size accepted: 13 hex digits keep it below 2^53 so Number arithmetic is exact.
const MAX_SIZE_DIGITS = 13;

const CR = 0x0d;
const LF = 0x0a;

/** Creates a tracker for the given framing. */
export function createBodyTracker(framing: BodyFraming, limits: BodyLimits = {}): BodyTracker {
  const maxLine = limits.maxChunkLine ?? 4096;
  const maxTrailer = limits.maxTrailerBytes ?? 16384;

  if (framing.kind !== 'chunked') {
    let remaining = framing.kind === 'length' ? framing.length : 0;
    return {
      get done() {
        return remaining === 0;
      },
      push(chunk) {
        const used = Math.min(remaining, chunk.length);
        remaining -= used;
        return { used, done: remaining === 0 };
      },
    };
  }

  // Chunked: chunk-size [ext] CRLF, data CRLF, ..., 0 [ext] CRLF, *(trailer CRLF), CRLF.
  let state: 'size' | 'data' | 'data_cr' | 'data_lf' | 'trailer' | 'done' = 'size';
  let line = '';
  let lineHasCr = false;
  let remaining = 0;
  let trailerBytes = 0;

  const endSizeLine = (): string | null => {
    const m = /^([0-9A-Fa-f]+)[ \t]*(;[^\x00-\x08\x0a-\x1f\x7f]*)?$/.exec(line);
    if (m === null) return 'chunk size line is malformed';
    const digits = (m[1] as string).replace(/^0+(?=.)/, '');
    if (digits.length > MAX_SIZE_DIGITS) return 'chunk size is too large';
    remaining = parseInt(digits, 16);
    state = remaining === 0 ? 'trailer' : 'data';
    return null;
  };

  return {
    get done() {
      return state === 'done';
    },
    push(chunk) {
      let i = 0;
      while (i < chunk.length && state !== 'done') {
        if (state === 'data') {
          const n = Math.min(remaining, chunk.length - i);
          remaining -= n;
          i += n;
          if (remaining === 0) state = 'data_cr';
          continue;
        }
        const b = chunk[i++] as number;
        if (state === 'data_cr' || state === 'data_lf') {
          // The CRLF after chunk data is required exactly (RFC 9112 section 7.1).
          const want = state === 'data_cr' ? CR : LF;
          if (b !== want) return { error: 'chunk data is not followed by CRLF' };
          state = state === 'data_cr' ? 'data_lf' : 'size';
          continue;
        }
        // 'size' or 'trailer': collect a line; require CR before LF, no bare CR inside.
        if (b === LF) {
          if (!lineHasCr) return { error: 'chunked line ends in a bare LF' };
          if (state === 'size') {
            const err = endSizeLine();
            if (err !== null) return { error: err };
          } else if (line.length === 0) {
            state = 'done';
          } else if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+:/.test(line)) {
            return { error: 'trailer field is malformed' };
          }
          line = '';
          lineHasCr = false;
          continue;
        }
        if (lineHasCr) return { error: 'chunked line contains a bare CR' };
        if (b === CR) {
          lineHasCr = true;
          continue;
        }
        line += String.fromCharCode(b);
        if (state === 'size' && line.length > maxLine) return { error: 'chunk size line is too long' };
        if (state === 'trailer' && ++trailerBytes > maxTrailer) return { error: 'trailer section is too large' };
      }
      return { used: i, done: state === 'done' };
    },
  };
}

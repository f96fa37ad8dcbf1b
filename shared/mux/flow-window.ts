/**
 * Credit accounting for one flow-control window, receive side and send side. Pure arithmetic,
 * used for every stream and for the session (stream 0), as in RFC 9113 section 5.2 and 6.9:
 * the sender never has more bytes in flight than the receiver granted, and the receiver grants
 * bytes back only once its consumer has taken them.
 */

import { MAX_WINDOW } from '../protocol/constants.ts';

/** The receiving end of a window: what the peer may still send, and what we owe it back. */
export class ReceiveWindow {
  /** Bytes the peer may still send before it must wait for credit. */
  available: number;
  /** Bytes consumed locally and not yet returned to the peer. */
  owed = 0;
  /** The window we announced. */
  readonly size: number;
  private readonly threshold: number;

  /**
   * `size` is the window we announced in our hello. Credit goes back in batches of at least
   * `size / 4`, so WINDOW frames stay rare but the sender never idles: with an empty receive
   * buffer it always holds at least three quarters of the window.
   */
  constructor(size: number) {
    this.available = size;
    this.size = size;
    this.threshold = Math.max(1, Math.floor(size / 4));
  }

  /** Records `n` received bytes; false when they exceed the credit granted (peer violated flow control). */
  receive(n: number): boolean {
    if (n > this.available) return false;
    this.available -= n;
    return true;
  }

  /** Records `n` bytes consumed (or discarded); returns the credit to send now (0 = wait for more). */
  consume(n: number): number {
    this.owed += n;
    if (this.owed < this.threshold) return 0;
    return this.flush();
  }

  /** Returns all owed credit now, whatever its size. */
  flush(): number {
    const grant = this.owed;
    this.owed = 0;
    this.available += grant;
    return grant;
  }
}

/** The sending end of a window: bytes we may still send. */
export class SendWindow {
  /** Bytes we may send before the peer grants more. */
  credit: number;

  constructor(initial: number) {
    this.credit = initial;
  }

  /** Adds credit from a WINDOW frame; false when the increment is zero or overflows MAX_WINDOW. */
  grant(n: number): boolean {
    if (!Number.isInteger(n) || n <= 0 || this.credit + n > MAX_WINDOW) return false;
    this.credit += n;
    return true;
  }

  /** Spends credit for `n` bytes sent; the caller never sends more than `credit`. */
  spend(n: number): void {
    this.credit -= n;
  }
}

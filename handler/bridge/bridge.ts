/**
 * Relays one client stream to one link stream (docs/protocol.md 3.2, 5 and 6), the handler's
 * whole data plane:
 *
 * - Opening: the exit is picked and OPEN goes out on a link at once; early data the client sends
 *   before OPEN_OK is forwarded right behind it (a TLS ClientHello costs no extra round trip)
 *   and also kept, so that a retryable failure (EXIT_UNAVAILABLE, STREAM_LIMIT, a GOAWAY
 *   refusal, or the link dying before OPEN_OK) can replay it to another exit: OPEN_FAIL means
 *   the destination never got a byte. Early data is bounded by the client stream's window,
 *   because a stream's credit is only returned after it is accepted.
 * - Open: two pumps, each `read()` then `write()`. A read acknowledges the previous chunk, so
 *   credit goes back to the sending hop only after that chunk went into the other hop's bounded
 *   queue, which drains only within the other hop's credit (docs/mux.md section 3): no hop
 *   buffers more than its windows. Shaping delays the forwarding (and so the credit); it never
 *   drops stream bytes.
 * - Ends: FIN is passed on each way; a RESET from either side resets the other (a dead link
 *   becomes RESET(UPSTREAM_LOST) for the client); a spent quota resets both with POLICY.
 */
import { ErrorCode, hasCode } from '../../shared/errors.ts';
import type { OpenRequest } from '../../shared/mux/options.ts';
import type { MuxStream } from '../../shared/mux/stream.ts';
import { CloseCode, isRetryableOpenFail, OpenFailReason, type CloseCodeValue, type OpenFailReasonValue } from '../../shared/protocol/codes.ts';
import { Network } from '../../shared/protocol/constants.ts';
import type { BridgeObserver, StreamMeter, StreamRouter } from './types.ts';

/** Options of one bridge. */
export interface BridgeOptions {
  /** The client's stream, still PENDING (the bridge answers it). */
  client: MuxStream;
  /** Opaque origin tag for the link OPEN (empty = none). */
  tag?: Uint8Array;
  router: StreamRouter;
  meter: StreamMeter;
  observer?: BridgeObserver;
}

/**
 * Early data held per stream before the pump waits for OPEN_OK: the client's stream window
 * bounds it already, but config allows windows far above the link's send queue limit.
 */
export const MAX_EARLY_BYTES = 256 * 1024;

function noop(): void {}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The close code a stream error passes on: the peer's own RESET code, else `fallback`. */
function passOn(err: unknown, fallback: CloseCodeValue): CloseCodeValue {
  const e = err as { code?: unknown; closeCode?: CloseCodeValue; remote?: boolean };
  if (e.code === ErrorCode.STREAM_RESET && e.remote === true && e.closeCode !== undefined) return e.closeCode;
  return fallback;
}

/** One client stream relayed to an exit. Call run() once. */
export class StreamBridge {
  readonly client: MuxStream;
  readonly #o: BridgeOptions;
  readonly #request: OpenRequest;
  #link: MuxStream | null = null;
  #exitId = '';
  /** Early chunks kept for a retry; null once the exit answered OPEN_OK. */
  #early: Uint8Array[] | null = [];
  #earlyFin = false;
  #earlyBytes = 0;
  #ended = false;
  #openDone: Promise<void>;
  #settleOpen!: () => void;

  constructor(options: BridgeOptions) {
    this.#o = options;
    this.client = options.client;
    const r = options.client.request;
    this.#openDone = new Promise((resolve) => (this.#settleOpen = resolve));
    this.#request = { network: r.network, address: r.address, ...(options.tag !== undefined && options.tag.length > 0 ? { tag: options.tag } : {}) };
  }

  /** The exit the stream went to ('' before one was chosen). */
  get exitId(): string {
    return this.#exitId;
  }

  /** Runs the stream to its end; never rejects. */
  async run(): Promise<void> {
    try {
      // The first pick happens before early data is read, so every byte is counted against an exit.
      const first = this.#o.router.pick();
      const up = this.#pumpUp();
      const opened = await this.#open(first).finally(() => this.#settleOpen());
      if (opened) {
        if (this.#request.network === Network.UDP) this.#relayDatagrams();
        await Promise.all([up, this.#pumpDown()]);
      } else {
        await up;
      }
      await Promise.all([this.client.closed, this.#link?.closed]);
    } catch {
      // Every path below handles its own failures; this only guards against our own bugs.
      this.#settleOpen();
      this.client.reset(CloseCode.INTERNAL_ERROR);
      this.#link?.reset(CloseCode.INTERNAL_ERROR);
    } finally {
      this.#o.observer?.finished?.();
    }
  }

  /** Picks, opens, retries; true once the exit answered OPEN_OK and the client stream is accepted. */
  async #open(first: ReturnType<StreamRouter['pick']>): Promise<boolean> {
    const { router, observer } = this.#o;
    const tried: string[] = [];
    let pick = first;
    for (;;) {
      if (!pick.ok) {
        observer?.noExit?.(pick.detail);
        return this.#refuse(OpenFailReason.NO_EXIT);
      }
      const exitId = pick.exitId;
      this.#exitId = exitId;
      observer?.selected?.(exitId);
      const opened = router.open(exitId, this.#request);
      if (!opened.ok) {
        if (opened.reason === 'unsupported') return this.#refuse(OpenFailReason.NETWORK_NOT_SUPPORTED);
        tried.push(exitId);
        pick = router.retry(exitId, tried);
        continue;
      }
      const link = opened.stream;
      this.#link = link;
      for (const chunk of this.#early ?? []) link.write(chunk).catch(noop);
      if (this.#earlyFin) link.end();
      const started = performance.now();
      const outcome = await Promise.race([
        link.opened.then(
          () => 'ok' as const,
          (err: unknown) => err,
        ),
        this.client.closed.then(() => 'client' as const),
      ]);
      if (outcome === 'client') {
        link.reset(CloseCode.CANCEL);
        return false;
      }
      if (outcome === 'ok') {
        router.openSucceeded(exitId);
        observer?.opened?.(exitId, (performance.now() - started) / 1000);
        this.#early = null;
        this.client.accept();
        return true;
      }
      const verdict = this.#judge(exitId, outcome);
      if (verdict !== 'retry') return this.#refuse(verdict);
      tried.push(exitId);
      pick = router.retry(exitId, tried);
    }
  }

  /** What a failed link OPEN means: retry elsewhere, or the reason to give the client. */
  #judge(exitId: string, err: unknown): 'retry' | OpenFailReasonValue {
    const { router } = this.#o;
    if (hasCode(err, ErrorCode.OPEN_FAILED)) {
      const reason = (err as unknown as { reason: OpenFailReasonValue }).reason;
      if (isRetryableOpenFail(reason)) {
        router.openFailed(exitId);
        return 'retry';
      }
      // The destination's verdict: the exit itself works.
      router.openSucceeded(exitId);
      return reason;
    }
    // Above the exit's GOAWAY id: never seen there, safe to retry; not the exit's fault.
    if (hasCode(err, ErrorCode.REFUSED)) return 'retry';
    // The link died before OPEN_OK (docs/protocol.md 2.5, Retry).
    if (hasCode(err, ErrorCode.CLOSED)) {
      router.openFailed(exitId);
      return 'retry';
    }
    if (hasCode(err, ErrorCode.TIMEOUT)) {
      router.streamStalled(exitId);
      return OpenFailReason.TIMEOUT;
    }
    return OpenFailReason.GENERAL_FAILURE;
  }

  #refuse(reason: OpenFailReasonValue): false {
    this.client.reject(reason);
    return false;
  }

  /** Client to exit, from the first early byte to the client's FIN. */
  async #pumpUp(): Promise<void> {
    const { meter } = this.#o;
    for (;;) {
      let chunk: Uint8Array | null;
      try {
        chunk = await this.client.read();
      } catch (err) {
        this.#link?.reset(passOn(err, CloseCode.CANCEL));
        return;
      }
      if (chunk === null) {
        if (this.#early !== null) this.#earlyFin = true;
        this.#link?.end();
        return;
      }
      const n = chunk.byteLength;
      if (!meter.count('up', n, this.#exitId)) {
        this.#policyReset();
        return;
      }
      const wait = meter.delay(n);
      if (wait > 0) await sleep(wait);
      if (this.#early !== null) {
        // Still opening: keep the chunk for a retry and send it along behind the OPEN.
        this.#early.push(chunk);
        this.#earlyBytes += n;
        this.#link?.write(chunk).catch(noop);
        if (this.#earlyBytes >= MAX_EARLY_BYTES) await this.#openDone;
        continue;
      }
      const link = this.#link;
      if (link === null) return;
      try {
        await link.write(chunk);
      } catch (err) {
        this.client.reset(passOn(link.error ?? err, CloseCode.UPSTREAM_LOST));
        return;
      }
    }
  }

  /** Exit to client, after OPEN_OK. */
  async #pumpDown(): Promise<void> {
    const { meter } = this.#o;
    const link = this.#link!;
    for (;;) {
      let chunk: Uint8Array | null;
      try {
        chunk = await link.read();
      } catch (err) {
        this.client.reset(passOn(err, CloseCode.UPSTREAM_LOST));
        return;
      }
      if (chunk === null) {
        this.client.end();
        return;
      }
      const n = chunk.byteLength;
      if (!meter.count('down', n, this.#exitId)) {
        this.#policyReset();
        return;
      }
      const wait = meter.delay(n);
      if (wait > 0) await sleep(wait);
      try {
        await this.client.write(chunk);
      } catch (err) {
        link.reset(passOn(this.client.error ?? err, CloseCode.CANCEL));
        return;
      }
    }
  }

  #relayDatagrams(): void {
    const { meter } = this.#o;
    const link = this.#link!;
    this.client.onDatagram((address, payload) => {
      const n = payload.byteLength;
      if (!meter.count('up', n, this.#exitId)) return this.#policyReset();
      if (meter.admitDatagram(n)) link.sendDatagram(address, payload);
    });
    link.onDatagram((address, payload) => {
      const n = payload.byteLength;
      if (!meter.count('down', n, this.#exitId)) return this.#policyReset();
      if (meter.admitDatagram(n)) this.client.sendDatagram(address, payload);
    });
  }

  #policyReset(): void {
    if (this.#ended) return;
    this.#ended = true;
    // Before the answer the only thing the client may get is OPEN_FAIL (reset() does that).
    if (this.#early !== null) this.client.reject(OpenFailReason.QUOTA_EXCEEDED);
    else this.client.reset(CloseCode.POLICY);
    this.#link?.reset(CloseCode.POLICY);
  }
}

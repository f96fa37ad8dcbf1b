/**
 * An in-memory WsConnection pair with the runtime adapter's contract (shared/runtime/websocket.ts):
 * reading stops until a handler is set and while paused, close() delivers what was sent first,
 * terminate() drops at once (1006). Each end logs what it sent, so tests can prove silence.
 */
import type { WsCloseHandler, WsConnection, WsMessageHandler, WsReadyState } from '../../../shared/runtime/websocket.ts';

export class FakeWs implements WsConnection {
  peer!: FakeWs;
  readonly remoteAddress = '127.0.0.1';
  readonly remotePort = 40000;
  readonly bufferedAmount = 0;
  readyState: WsReadyState = 'open';
  /** Every message this end sent. */
  readonly sent: Uint8Array[] = [];
  /** How this end was closed: by close() with a code, or 'terminate'. */
  closedBy: number | 'terminate' | null = null;
  private inbox: Uint8Array[] = [];
  private handler: WsMessageHandler | null = null;
  private closeHandler: WsCloseHandler = () => {};
  private paused = false;
  private scheduled = false;
  private closeReported = false;
  private pendingClose: number | null = null;

  send(data: Uint8Array): boolean {
    if (this.readyState !== 'open') return false;
    this.sent.push(data);
    this.peer.inbox.push(data);
    this.peer.schedule();
    return true;
  }

  onMessage(handler: WsMessageHandler): void {
    this.handler = handler;
    this.schedule();
  }

  onDrain(): void {}

  onClose(handler: WsCloseHandler): void {
    this.closeHandler = handler;
    if (this.readyState === 'closed') setImmediate(() => handler(this.pendingClose ?? 1006, ''));
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.schedule();
  }

  close(code = 1000): void {
    if (this.readyState !== 'open') return;
    this.closedBy = code;
    this.readyState = 'closing';
    // The peer sees our close after the messages we sent before it.
    this.peer.pendingClose = code;
    this.peer.schedule();
  }

  terminate(): void {
    if (this.readyState === 'closed') return;
    this.closedBy ??= 'terminate';
    setImmediate(() => {
      this.finish(1006);
      this.peer.finish(1006);
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (!this.paused && this.handler !== null && this.inbox.length > 0 && this.readyState !== 'closed') {
      this.handler(this.inbox.shift()!);
    }
    if (this.pendingClose !== null && this.inbox.length === 0 && this.readyState !== 'closed') {
      const code = this.pendingClose;
      this.finish(code);
      this.peer.finish(code);
    }
  }

  private finish(code: number): void {
    if (this.closeReported) return;
    this.closeReported = true;
    this.readyState = 'closed';
    this.inbox = [];
    this.closeHandler(code, '');
  }
}

/** Two connected fake WebSockets: [client end, server end]. */
export function fakeWsPair(): [FakeWs, FakeWs] {
  const a = new FakeWs();
  const b = new FakeWs();
  a.peer = b;
  b.peer = a;
  return [a, b];
}

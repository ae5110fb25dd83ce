/** Adapts a `ws` WebSocket to the transport's minimal socket interface. */
import type { Writable } from 'node:stream';
import type { WebSocket } from 'ws';
import type { TransportSocket } from '../transport/transport.js';

// Pre-encoded frames arrive as bytes; they are still text frames on the wire.
const TEXT = { binary: false } as const;

/** A class rather than an object of closures: one allocation per connection instead of six. */
export class WsTransportSocket implements TransportSocket {
  readonly #ws: WebSocket;
  readonly #raw: Writable;

  /**
   * @param raw the upgraded socket under `ws`, which the connection corks
   *   while `ws` handles a read (socket-reads.ts): what `flush()` writes out
   */
  constructor(ws: WebSocket, raw: Writable) {
    this.#ws = ws;
    this.#raw = raw;
  }

  send(frame: string | Uint8Array, done?: (err?: Error) => void): void {
    if (typeof frame === 'string') this.#ws.send(frame, done);
    else this.#ws.send(frame, TEXT, done);
  }

  close(code: number, reason: string): void {
    this.#ws.close(code, reason);
  }

  destroy(): void {
    this.#ws.terminate();
  }

  bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  flush(): void {
    const raw = this.#raw;
    if (raw.writableCorked === 0) return;
    raw.uncork();
    raw.cork();
  }
}

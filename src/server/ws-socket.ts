/** Adapts a `ws` WebSocket to the transport's minimal socket interface. */
import type { Writable } from 'node:stream';
import type { WebSocket } from 'ws';
import type { TransportSocket } from '../transport/transport.js';

// Pre-encoded frames arrive as bytes; they are still text frames on the wire.
const TEXT = { binary: false } as const;

/**
 * @param raw the upgraded socket under `ws`, which the connection corks
 *   while `ws` handles a read (socket-reads.ts): what `flush()` writes out
 */
export function wsTransportSocket(ws: WebSocket, raw: Writable): TransportSocket {
  return {
    send(frame, done) {
      if (typeof frame === 'string') ws.send(frame, done);
      else ws.send(frame, TEXT, done);
    },
    close(code, reason) {
      ws.close(code, reason);
    },
    destroy() {
      ws.terminate();
    },
    bufferedAmount() {
      return ws.bufferedAmount;
    },
    flush() {
      if (raw.writableCorked === 0) return;
      raw.uncork();
      raw.cork();
    },
  };
}

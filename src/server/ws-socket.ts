/** Adapts a `ws` WebSocket to the transport's minimal socket interface. */
import type { WebSocket } from 'ws';
import type { TransportSocket } from '../transport/transport.js';

// Pre-encoded frames arrive as bytes; they are still text frames on the wire.
const TEXT = { binary: false } as const;

export function wsTransportSocket(ws: WebSocket): TransportSocket {
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
  };
}

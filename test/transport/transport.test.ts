import assert from 'node:assert/strict';
import { Transport, type TransportSocket } from '../../src/transport/transport.js';

const OPTIONS = { maxSegmentSize: 1024, maxMessageSize: 4096, pingDelay: null, pingTimeout: 1000, sendQueueSize: 8, framing: 'segmented' } as const;

describe('Transport', () => {
  it('answers a ping at once and asks the socket to write it out, ahead of what the same read goes on to send', () => {
    const log: string[] = [];
    const socket: TransportSocket = {
      send: (frame) => void log.push(`send ${String(frame)}`),
      close: () => {},
      destroy: () => {},
      bufferedAmount: () => 0,
      flush: () => void log.push('flush'),
    };
    const transport = new Transport(socket, OPTIONS, { message: (text) => transport.sendText(`re:${text}`), lost: () => {} });
    transport.receive('2p1');
    transport.receive('0"m"');
    assert.deepEqual(log, ['send 3p1', 'flush', 'send 0re:"m"']);
    transport.close();
  });
});
